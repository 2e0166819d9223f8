"""Plots on top of the engine: DAG, timeline, sequence diagram, latency CDF, sweep curves.

    from engine.views import plot_dag, plot_timeline
    plot_timeline(run, instance=3)

Each function draws on `ax` if given (else on a new figure) and returns the
`Figure`; none calls `plt.show()`. The engine never imports this package, so
`import engine` stays free of matplotlib.
"""

from .cap import CapPlayground, cap_playground
from .cdf import plot_latency_cdf
from .dag import plot_dag
from .dashboard import FailureDashboard, failure_dashboard
from .history import plot_history
from .native import plot_cancellation, plot_cpu_step, plot_memory
from .sequence import plot_sequence
from .source import show_source
from .storm import StormControl, plot_storm, storm_control
from .sweeps import plot_sweep
from .timeline import plot_timeline

__all__ = ["plot_dag", "plot_timeline", "plot_sequence", "plot_latency_cdf", "plot_sweep", "plot_history",
           "plot_storm", "failure_dashboard", "FailureDashboard", "cap_playground", "CapPlayground",
           "storm_control", "StormControl", "show_source", "plot_memory", "plot_cpu_step",
           "plot_cancellation"]
