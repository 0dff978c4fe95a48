"""The gait clock and stepping reference: continuous in and out of stepping, commands clipped."""

from __future__ import annotations

import numpy as np

from control import gait


def test_commands_outside_the_trained_ranges_are_clipped_and_flagged():
    cmd, clipped = gait.clip_command(np.array([1.5, -0.1, -2.0]))
    assert clipped
    np.testing.assert_allclose(cmd, [gait.COMMAND_HIGH[0], -0.1, gait.COMMAND_LOW[2]])
    same, clipped = gait.clip_command(np.array([0.3, 0.0, 0.2]))
    assert not clipped and np.allclose(same, [0.3, 0.0, 0.2])


def test_deadband_means_stand_still():
    assert not gait.wants_motion(np.array([0.02, 0.02, 0.05]))
    assert gait.wants_motion(np.array([0.2, 0.0, 0.0]))
    assert gait.wants_motion(np.array([0.0, 0.0, 0.4]))


def test_reference_ramps_in_and_out_without_a_jump():
    clock = gait.GaitClock(dt=0.02)
    refs = [clock.reference()]
    for k in range(300):  # 2 s standing, 2 s walking, 2 s standing again
        cmd = np.array([0.4, 0.0, 0.0]) if 100 <= k < 200 else np.zeros(3)
        clock.advance(cmd)
        refs.append(clock.reference())
    refs = np.array(refs)
    assert np.all(refs[:100] == 0.0), "no stepping reference while standing"
    assert np.abs(refs[100:200]).max() > 0.2, "the swing leg flexes while walking"
    step = np.abs(np.diff(refs, axis=0)).max(axis=1)  # largest joint change per 20 ms period
    # in steady stepping the knee moves at most 2 * swing * 2 pi / period per second
    # (plus what the amplitude ramp adds while it runs)
    bound = 2 * gait.SWING_HIP_RAD * (2 * np.pi / gait.PERIOD_S + 1 / gait.RAMP_S) * 0.02
    assert step.max() <= bound
    # at the mode change the amplitude ramps: the first periods move far less than that
    assert 0.0 < step[100:103].max() < 0.3 * bound
    assert clock.amplitude == 0.0 and np.all(refs[-1] == 0.0), "back to standing at the end"


def test_legs_alternate_and_the_sole_stays_flat():
    phases = np.linspace(0, 1, 41)
    ref = gait.leg_reference(phases, np.ones_like(phases))
    left_knee, right_knee = ref[:, 3], ref[:, 9]
    assert np.all((left_knee == 0) | (right_knee == 0)), "never both legs in swing"
    for base in (0, 6):  # ankle = -(hip + knee): the foot stays parallel to the floor
        np.testing.assert_allclose(ref[:, base + 4], -(ref[:, base + 2] + ref[:, base + 3]), atol=1e-12)
    stance = gait.expected_stance(phases, np.ones_like(phases))
    assert np.all(stance.any(axis=1)), "at least one foot down at every phase"


def test_the_command_shapes_the_step():
    """At the end of its swing a leg is ahead for vx > 0, out to its side for vy, twisted for wz."""
    end_left, end_right = np.array(0.5), np.array(0.0)  # phases where each leg's swing ends
    fwd = gait.leg_reference(end_left, np.array(1.0), np.array([0.5, 0.0, 0.0]))
    assert fwd[2] < -0.05 and fwd[8] > 0.05  # left hip flexed, right behind
    np.testing.assert_allclose(fwd[4], -fwd[2], atol=1e-12)  # stance/swing sweep keeps the sole level
    side = gait.leg_reference(end_left, np.array(1.0), np.array([0.0, 0.3, 0.0]))
    assert side[1] > 0.03 and side[5] == -side[1]  # left leg out to the left, ankle keeps the sole flat
    turn = gait.leg_reference(end_right, np.array(1.0), np.array([0.0, 0.0, 0.8]))
    assert turn[6] > 0.1 and turn[0] < -0.1  # right leg twisted at its touch-down, left the other way
    still = gait.leg_reference(end_left, np.array(0.0), np.array([0.5, 0.3, 0.8]))
    assert np.all(still == 0.0)  # amplitude 0: no reference, whatever the command


def test_a_changed_command_is_ramped_in():
    clock = gait.GaitClock(dt=0.02)
    for _ in range(100):
        clock.advance(np.array([0.6, 0.0, 0.0]))
    before = clock.reference()
    clock.advance(np.array([-0.3, 0.0, 0.8]))  # an abrupt new order
    assert np.abs(clock.reference() - before).max() < 0.1
    np.testing.assert_allclose(clock.command, [0.58, 0.0, 0.04])


def test_stepping_goes_on_until_the_ramped_command_has_come_down():
    """A stop from a fast walk: the legs keep stepping while the command ramps down (0.6 m/s at
    1 m/s^2 is 0.55 s), and only then does the stepping ramp out. Freezing the legs mid-deceleration
    slid walk_v6 onto a standing policy at up to 0.5 m/s."""
    clock = gait.GaitClock(dt=0.02)
    for _ in range(100):
        clock.advance(np.array([0.6, 0.0, 0.0]))
    amplitudes, commands = [], []
    for _ in range(75):
        clock.advance(np.zeros(3))
        amplitudes.append(clock.amplitude)
        commands.append(clock.command[0])
    amplitudes, commands = np.array(amplitudes), np.array(commands)
    moving = commands > gait.DEADBAND_V
    assert moving[:20].all() and np.all(amplitudes[moving] == 1.0), "full stepping while the command ramps down"
    assert amplitudes[-1] == 0.0, "stepping ramped out once the command is a stand"
    assert not gait.keeps_stepping(np.zeros(3), np.array([0.04, 0.0, 0.05]))
    assert gait.keeps_stepping(np.zeros(3), np.array([0.3, 0.0, 0.0]))
