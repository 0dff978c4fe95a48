"""The ZeroMQ wire between the layers and the robot; the MuJoCo world served as a robot."""
