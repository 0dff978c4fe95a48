"""The planner's evaluation set (commands.yaml); scored by planner/evaluation.py."""
