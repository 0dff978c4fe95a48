"""Motion layer: skills as sequences of collision-free arm motions (OMPL), IK (mink), timing."""
