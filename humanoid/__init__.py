"""The humanoid task-execution stack: command line, run orchestration, robot specs and traces.

The layers live in their own top-level packages (planner, motion, control, bridge); this
package holds what they share: the contracts between layers, the robot spec loader and the
trace format.
"""

__version__ = "0.1.0"
