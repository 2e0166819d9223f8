"""System Design Expert's engine: workflows, a simulated world, two runners, checkers.

    import engine
    wf = engine.load_workflow("notebooks/workflows/order-fulfillment.yaml")
    run = engine.simulate(wf, seed=7, orders=100, arrival_rate=20,
                          faults=engine.FaultPlan().crash("orchestrator", at=1.0, restart_after=2.0))
    print(run.summary())
    print(run.check())

Views (plots, widgets) live in `engine.views` and are imported on demand:
`import engine` never imports matplotlib or ipywidgets.
"""

from .broker import BrokerConfig
from .compare import Comparison, compare
from .debt import DebtModel, DebtRun, simulate_debt
from .durations import format_duration, parse_duration
from .dsl import load_workflow, parse_workflow
from .errors import CODES, Diagnostic, WorkflowError
from .faultfile import load_fault_plan
from .faults import Fault, FaultPlan
from .invariants import EFFECT_INVARIANTS, INVARIANTS, Report, Violation
from .kv import KVRun, simulate_kv
from .linearizability import LinearizabilityResult, check_linearizable
from .messaging import MessagingRun, compare_messaging, simulate_messaging
from .latency import Constant, Exponential, Latency, LogNormal, Uniform, parse_latency
from .network import NetworkProfile
from .orchestrator import InstanceState
from .profiles import ServiceProfile
from .retry import RetryPolicy
from .external import ExternalOrchestratorError
from .recorded import live_or_recorded
from .run import Instance, Run, StepOutcome, Summary, percentile
from .scenario import Scenario
from .shapes import fan_out
from .simulate import MODES, simulate
from .storm import LayersRun, StormRun, simulate_layers, simulate_storm
from .sweep import sweep
from .trace import KINDS, Event, Trace
from .workflow import Action, CriticalPath, Step, Workflow

__version__ = "0.1.0"

__all__ = [
    # the DSL
    "load_workflow", "parse_workflow", "fan_out", "Workflow", "Step", "Action", "CriticalPath",
    "RetryPolicy", "ServiceProfile", "WorkflowError", "Diagnostic", "CODES",
    "parse_duration", "format_duration",
    "Latency", "Constant", "Uniform", "Exponential", "LogNormal", "parse_latency",
    # the world and its faults
    "FaultPlan", "Fault", "load_fault_plan", "NetworkProfile", "BrokerConfig",
    # running
    "simulate", "MODES", "sweep", "Scenario", "compare", "Comparison", "live_or_recorded", "ExternalOrchestratorError", "Run", "Instance", "StepOutcome", "Summary", "percentile",
    "InstanceState",
    # retry storms
    "simulate_storm", "StormRun", "simulate_layers", "LayersRun",
    # replicated data
    "simulate_kv", "KVRun", "check_linearizable", "LinearizabilityResult",
    # architecture decisions
    "simulate_messaging", "compare_messaging", "MessagingRun", "simulate_debt", "DebtModel", "DebtRun",
    # the record and its checks
    "Trace", "Event", "KINDS", "Report", "Violation", "INVARIANTS", "EFFECT_INVARIANTS",
]
