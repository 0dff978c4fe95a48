"""Compact PPO (clipped objective, GAE, value loss, entropy bonus, Adam, adaptive KL step size).

Asymmetric actor-critic: the actor sees only the robot's observation (what ships in the
ONNX file); the critic also sees privileged simulator quantities (base velocity, push force,
payload), which speeds up learning and is thrown away at export.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass
class PPOConfig:
    horizon: int = 48  # policy steps per env per iteration
    epochs: int = 5
    minibatches: int = 4
    gamma: float = 0.99
    lam: float = 0.95
    clip: float = 0.2
    value_coef: float = 1.0
    entropy_coef: float = 0.003
    lr: float = 5e-4
    desired_kl: float = 0.02  # the step size adapts to keep the policy change near this
    min_lr: float = 5e-5  # with a narrow action std the KL rule alone would stall learning
    max_grad_norm: float = 1.0
    init_std: float = 0.12
    hidden: tuple[int, ...] = (256, 128, 64)
    obs_var_floor: float = 1e-8  # see RunningNorm
    # weight of the mirror-symmetry loss |mu(s) - M_a(mu(M_s(s)))|^2 (control/train/symmetry.py);
    # used only when PPO is given the mirror maps
    symmetry_coef: float = 0.0
    # the policy mean is the average of the actor and its mirror image (`mean_action`); it is
    # then symmetric by construction, and this exact average is what `export` ships
    mirror_average: bool = False


class RunningNorm(nn.Module):
    """Running mean/variance of inputs (Chan's parallel update); frozen at export."""

    def __init__(self, dim: int, clip: float = 5.0, eps: float = 1e-4, var_floor: float = 1e-8) -> None:
        super().__init__()
        # var_floor: an input that never varied in training (arms held still early in a
        # curriculum) must not turn into a +-clip jump the first time it moves
        self.var_floor = var_floor
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))
        self.register_buffer("count", torch.tensor(eps, dtype=torch.float64))
        self.clip = clip

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        b_mean, b_var, b_n = x.mean(0), x.var(0, unbiased=False), x.shape[0]
        n = self.count.item()
        total = n + b_n
        delta = b_mean - self.mean
        self.mean += delta * (b_n / total)
        self.var = (self.var * n + b_var * b_n + delta.square() * n * b_n / total) / total
        self.count.fill_(total)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp((x - self.mean) / torch.sqrt(self.var + self.var_floor), -self.clip, self.clip)


def mlp(inp: int, hidden: tuple[int, ...], out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(inp, h), nn.ELU()]
        inp = h
    layers.append(nn.Linear(inp, out))
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    def __init__(self, obs_dim: int, priv_dim: int, act_dim: int, cfg: PPOConfig, mirror=None) -> None:
        """`mirror`: (observation map, action map) of `control.train.symmetry`; given, the policy
        is the mirror average (a(s) + M_a a(M_s s)) / 2 of the actor a, with a symmetric std."""
        super().__init__()
        # plain attributes, not buffers: checkpoints hold weights only, and the maps come from
        # the robot model each time
        self.mirror = mirror
        self.obs_norm = RunningNorm(obs_dim, var_floor=cfg.obs_var_floor)
        self.critic_norm = RunningNorm(obs_dim + priv_dim, var_floor=cfg.obs_var_floor)
        self.actor = mlp(obs_dim, cfg.hidden, act_dim)
        self.critic = mlp(obs_dim + priv_dim, cfg.hidden, 1)
        self.log_std = nn.Parameter(torch.full((act_dim,), math.log(cfg.init_std)))
        # small last layer: the first policy is close to "hold the default pose"
        nn.init.uniform_(self.actor[-1].weight, -1e-3, 1e-3)
        nn.init.zeros_(self.actor[-1].bias)

    def mean_action(self, obs: torch.Tensor) -> torch.Tensor:
        mean = self.actor(self.obs_norm(obs))
        if self.mirror is None:
            return mean
        obs_map, act_map = self.mirror
        return 0.5 * (mean + act_map(self.actor(self.obs_norm(obs_map(obs)))))

    def action_std(self) -> torch.Tensor:
        if self.mirror is None:
            return self.log_std.exp()
        # the geometric mean of each joint's std and its partner's: mirrored joints explore alike
        return (0.5 * (self.log_std + self.log_std[torch.as_tensor(self.mirror[1].perm)])).exp()

    def value(self, obs: torch.Tensor, priv: torch.Tensor) -> torch.Tensor:
        return self.critic(self.critic_norm(torch.cat([obs, priv], dim=-1))).squeeze(-1)

    def dist(self, obs: torch.Tensor) -> torch.distributions.Normal:
        return torch.distributions.Normal(self.mean_action(obs), self.action_std().expand(obs.shape[0], -1))


class RolloutBuffer:
    def __init__(self, horizon: int, n: int, obs_dim: int, priv_dim: int, act_dim: int) -> None:
        self.obs = torch.zeros(horizon, n, obs_dim)
        self.priv = torch.zeros(horizon, n, priv_dim)
        self.act = torch.zeros(horizon, n, act_dim)
        self.logp = torch.zeros(horizon, n)
        self.rew = torch.zeros(horizon, n)
        self.done = torch.zeros(horizon, n)
        self.val = torch.zeros(horizon, n)
        self.mu = torch.zeros(horizon, n, act_dim)
        self.std = torch.zeros(horizon, n, act_dim)


class PPO:
    def __init__(
        self, obs_dim: int, priv_dim: int, act_dim: int, num_envs: int, cfg: PPOConfig | None = None, mirror=None
    ) -> None:
        """`mirror`: (observation map, action map) of `control.train.symmetry`, for the symmetry
        loss (`symmetry_coef`) and the mirror-averaged policy (`mirror_average`)."""
        self.cfg = cfg or PPOConfig()
        if (self.cfg.symmetry_coef > 0.0 or self.cfg.mirror_average) and mirror is None:
            raise ValueError("symmetry_coef / mirror_average need the mirror maps (control.train.symmetry.walk_mirrors)")
        self.mirror = mirror if self.cfg.symmetry_coef > 0.0 else None
        # while True only the critic learns (a warm-started actor next to a fresh critic: the
        # critic's first, meaningless advantages would otherwise undo the actor)
        self.actor_frozen = False
        self.model = ActorCritic(obs_dim, priv_dim, act_dim, self.cfg, mirror=mirror if self.cfg.mirror_average else None)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=self.cfg.lr)
        self.lr = self.cfg.lr
        self.buf = RolloutBuffer(self.cfg.horizon, num_envs, obs_dim, priv_dim, act_dim)
        self.step_i = 0

    @torch.no_grad()
    def act(self, obs: np.ndarray, priv: np.ndarray) -> np.ndarray:
        """Sample actions for a batch and record what the update needs."""
        o, p = torch.as_tensor(obs), torch.as_tensor(priv)
        # normalisers stay fixed while collecting and updating (see `update`), otherwise the
        # stored old action distribution drifts away from what the network now computes
        d = self.model.dist(o)
        a = d.sample()
        b, k = self.buf, self.step_i
        b.obs[k], b.priv[k], b.act[k] = o, p, a
        b.logp[k] = d.log_prob(a).sum(-1)
        b.val[k] = self.model.value(o, p)
        b.mu[k], b.std[k] = d.mean, d.stddev
        return a.numpy().astype(np.float64)

    @torch.no_grad()
    def record(self, reward: np.ndarray, terminated: np.ndarray, truncated: np.ndarray, final_obs: np.ndarray, final_priv: np.ndarray) -> None:
        """Store the step's outcome; a time-out is not a failure, so bootstrap its value."""
        r = torch.as_tensor(reward, dtype=torch.float32)
        if truncated.any():
            idx = torch.as_tensor(np.flatnonzero(truncated))
            v = self.model.value(torch.as_tensor(final_obs[idx.numpy()]), torch.as_tensor(final_priv[idx.numpy()]))
            r[idx] += self.cfg.gamma * v
        self.buf.rew[self.step_i] = r
        self.buf.done[self.step_i] = torch.as_tensor(terminated | truncated, dtype=torch.float32)
        self.step_i += 1

    @property
    def buffer_full(self) -> bool:
        return self.step_i >= self.cfg.horizon

    def update(self, last_obs: np.ndarray, last_priv: np.ndarray) -> dict[str, float]:
        cfg, b, model = self.cfg, self.buf, self.model
        with torch.no_grad():
            next_v = model.value(torch.as_tensor(last_obs), torch.as_tensor(last_priv))
            adv = torch.zeros_like(b.rew)
            gae = torch.zeros_like(next_v)
            for t in reversed(range(cfg.horizon)):
                nonterminal = 1.0 - b.done[t]
                v_next = next_v if t == cfg.horizon - 1 else b.val[t + 1]
                delta = b.rew[t] + cfg.gamma * v_next * nonterminal - b.val[t]
                gae = delta + cfg.gamma * cfg.lam * nonterminal * gae
                adv[t] = gae
            ret = adv + b.val
        flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731
        obs, priv, act, logp_old = flat(b.obs), flat(b.priv), flat(b.act), flat(b.logp)
        adv_f, ret_f, mu_old, std_old = flat(adv), flat(ret), flat(b.mu), flat(b.std)
        n = obs.shape[0]
        mb = n // cfg.minibatches
        stats = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0, "kl": 0.0, "symmetry": 0.0}
        count = 0
        for _ in range(cfg.epochs):
            perm = torch.randperm(n)
            for s in range(0, n - mb + 1, mb):
                idx = perm[s : s + mb]
                d = model.dist(obs[idx])
                logp = d.log_prob(act[idx]).sum(-1)
                a = adv_f[idx]
                a = (a - a.mean()) / (a.std() + 1e-8)
                ratio = torch.exp(logp - logp_old[idx])
                pl = -torch.min(ratio * a, torch.clamp(ratio, 1 - cfg.clip, 1 + cfg.clip) * a).mean()
                vl = (model.value(obs[idx], priv[idx]) - ret_f[idx]).square().mean()
                ent = d.entropy().sum(-1).mean()
                loss = pl + cfg.value_coef * vl - cfg.entropy_coef * ent
                if self.actor_frozen:
                    loss = cfg.value_coef * vl
                elif self.mirror is not None:
                    obs_map, act_map = self.mirror
                    sym = (d.mean - act_map(model.mean_action(obs_map(obs[idx])))).square().mean()
                    loss = loss + cfg.symmetry_coef * sym
                    stats["symmetry"] += sym.item()
                with torch.no_grad():
                    # KL(old || new) of diagonal Gaussians: drives the adaptive learning rate
                    mu, std = d.mean, d.stddev
                    kl = (
                        torch.log(std / std_old[idx])
                        + (std_old[idx].square() + (mu_old[idx] - mu).square()) / (2 * std.square())
                        - 0.5
                    ).sum(-1).mean().item()
                if self.actor_frozen:
                    pass  # the policy does not change: nothing for the KL rule to judge
                elif kl > 2 * cfg.desired_kl:
                    self.lr = max(cfg.min_lr, self.lr / 1.5)
                elif kl < cfg.desired_kl / 2:
                    self.lr = min(1e-2, self.lr * 1.5)
                for g in self.opt.param_groups:
                    g["lr"] = self.lr
                self.opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                self.opt.step()
                stats["policy_loss"] += pl.item()
                stats["value_loss"] += vl.item()
                stats["entropy"] += ent.item()
                stats["kl"] += kl
                count += 1
        with torch.no_grad():
            model.obs_norm.update(obs)
            model.critic_norm.update(torch.cat([obs, priv], dim=-1))
        self.step_i = 0
        out = {k: v / max(count, 1) for k, v in stats.items()}
        out["lr"] = self.lr
        out["std"] = float(model.action_std().detach().mean())
        return out
