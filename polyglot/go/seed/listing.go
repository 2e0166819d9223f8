package seed

// orderFulfillment is the outline's OrderFulfillmentWorkflow (Phase 2, the Go listing), statement by
// statement; the listing's lines are quoted above the code that plays them. Its bugs are marked
// BUG n and their fixes FIX n, numbered as in polyglot/LISTINGS.md ("Go"); Context.Fixed(n) is true
// when SEED_FIXES names bug n. Each fix is the smallest change a reviewer would make to the listing.
//
// What the protocol cannot express is dropped: the activities' arguments and results (the order,
// ReservationID, PaymentID, TrackingNumber), the errors' wrapping text and the WorkflowResult. The
// listing returns an error on every failure path, so every failure ends `failed`; only FIX 4 can
// say `needs_intervention`. It never says `compensated`: the listing cannot tell a failure that
// was undone from one with nothing to undo.
func orderFulfillment(ctx *Context) string {
	// ao := workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second, RetryPolicy: ...}
	// ctx = workflow.WithActivityOptions(ctx, ao)
	// — StartToCloseUS and RetryPolicy, applied by the runtime to every activity, validate-order's
	// too (the workflow's own timeouts and retry policies are not the listing's, and are ignored).

	// Step 1: Validate order
	// err := workflow.ExecuteActivity(ctx, ValidateOrderActivity, input.Order).Get(ctx, &validationResult)
	if err := ctx.ExecuteActivity(ValidateOrder).Get(); err != nil {
		return Failed // return WorkflowResult{}, fmt.Errorf("order validation failed: %w", err)
	}

	// Step 2: Parallel execution of inventory and payment
	inventoryFuture := ctx.ExecuteActivity(ReserveInventory)
	paymentFuture := ctx.ExecuteActivity(ProcessPayment)

	// if err := inventoryFuture.Get(ctx, &inventoryResult); err != nil {
	//     return WorkflowResult{}, fmt.Errorf("inventory reservation failed: %w", err)
	// }
	if err := inventoryFuture.Get(); err != nil {
		var undo []Future
		if ctx.Fixed(5) && inventoryFuture.TimedOut() { // FIX 5: a reservation that timed out may be held
			undo = append(undo, inventoryFuture)
		}
		// BUG 1: the payment started in parallel is neither awaited nor refunded.
		if ctx.Fixed(1) { // FIX 1: await it, and refund it if it went through
			if paymentFuture.Get() == nil || ctx.Fixed(5) && paymentFuture.TimedOut() {
				undo = append(undo, paymentFuture)
			}
		}
		return ctx.compensate(undo...)
	}

	// if err := paymentFuture.Get(ctx, &paymentResult); err != nil {
	//     // Compensate inventory if payment fails
	//     workflow.ExecuteActivity(ctx, ReleaseInventoryActivity, inventoryResult.ReservationID)
	//     return WorkflowResult{}, fmt.Errorf("payment processing failed: %w", err)
	// }
	if err := paymentFuture.Get(); err != nil {
		undo := []Future{inventoryFuture}
		// BUG 5: a payment that failed after a timeout may have charged the card: it is not refunded.
		if ctx.Fixed(5) && paymentFuture.TimedOut() { // FIX 5: refund it too
			undo = append(undo, paymentFuture)
		}
		return ctx.compensate(undo...)
	}

	// Step 3: Ship order
	// err = workflow.ExecuteActivity(ctx, ShipOrderActivity, ShippingRequest{...}).Get(ctx, &shippingResult)
	if err := ctx.ExecuteActivity(ShipOrder).Get(); err != nil {
		// // Compensate both inventory and payment
		// workflow.ExecuteActivity(ctx, ReleaseInventoryActivity, inventoryResult.ReservationID)
		// workflow.ExecuteActivity(ctx, RefundPaymentActivity, paymentResult.PaymentID)
		// return WorkflowResult{}, fmt.Errorf("shipping failed: %w", err)
		return ctx.compensate(inventoryFuture, paymentFuture)
	}

	// BUG 6: the listing ends here; the workflow's send-confirmation step is never run.
	if ctx.Fixed(6) { // FIX 6: send the confirmation, fire-and-forget as the workflow declares it
		ctx.Publish(SendConfirmation)
	}
	// return WorkflowResult{OrderID: input.Order.ID, ShippingID: ..., Status: "completed"}, nil
	return Completed
}

// compensate plays the listing's compensation statements for the steps in done — on the payment
// path `workflow.ExecuteActivity(ctx, ReleaseInventoryActivity, ...)`, on the shipping path the same
// and then `workflow.ExecuteActivity(ctx, RefundPaymentActivity, ...)` — followed by the failure
// return. (FIX 1 and FIX 5 call it for the steps they add.)
func (ctx *Context) compensate(done ...Future) string {
	if !ctx.Fixed(2) {
		// BUG 2: started, never awaited (.Get is not called): their outcome is never seen, and the
		// workflow returns at once — the instance ends with them in flight (and BUG 4: together).
		for _, f := range done {
			ctx.ExecuteCompensation(f.step)
		}
		return Failed
	}
	if !ctx.Fixed(4) {
		// FIX 2: each compensation's future is awaited before the return:
		//     release := workflow.ExecuteActivity(ctx, ReleaseInventoryActivity, ...)
		//     refund := workflow.ExecuteActivity(ctx, RefundPaymentActivity, ...)
		//     _ = release.Get(ctx, nil); _ = refund.Get(ctx, nil)
		// BUG 4: still started together, in no order, and a compensation that gives up is ignored:
		// the workflow reports `failed` as if nothing were left to do, and no human is told.
		var futures []Future
		for _, f := range done {
			futures = append(futures, ctx.ExecuteCompensation(f.step))
		}
		for _, f := range futures {
			_ = f.Get()
		}
		return Failed
	}
	// FIX 4: one at a time, in reverse order (the refund before the release), and a compensation
	// that gives up after its retries ends the instance needs_intervention: a human must look.
	status := Failed
	for _, f := range ctx.reverse(done) {
		if err := ctx.ExecuteCompensation(f.step).Get(); err != nil {
			status = NeedsIntervention
		}
	}
	return status
}
