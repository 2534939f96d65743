"""The REINFORCE example's loop (policy network, sampled actions, discounted returns, normalized
policy loss) on a small corridor environment: walk right to reach the goal."""

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim

eps = np.finfo(np.float32).eps.item()


class Corridor:
    """States 0..5; action 1 moves right, 0 left; reaching 5 ends the episode with reward 1."""

    def reset(self):
        self.pos = 0
        return self._obs()

    def _obs(self):
        return np.eye(6, dtype=np.float32)[self.pos]

    def step(self, action):
        self.pos = max(0, self.pos + (1 if action == 1 else -1))
        done = self.pos == 5
        return self._obs(), (1.0 if done else -0.05), done


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.affine1 = nn.Linear(6, 32)
        self.dropout = nn.Dropout(p=0.0)
        self.affine2 = nn.Linear(32, 2)
        self.saved_log_probs, self.rewards = [], []

    def forward(self, x):
        x = F.relu(self.dropout(self.affine1(x)))
        return F.softmax(self.affine2(x), dim=1)


def select_action(policy, state):
    state = torch.from_numpy(state).float().unsqueeze(0)
    probs = policy(state)
    action = torch.multinomial(probs, 1)  # what Categorical(probs).sample() draws
    policy.saved_log_probs.append(torch.log(probs.gather(1, action)).squeeze())
    return action.item()


def finish_episode(policy, optimizer, gamma=0.99):
    R, returns = 0, []
    for r in policy.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    policy_loss = torch.stack([-lp * R for lp, R in zip(policy.saved_log_probs, returns)]).sum()
    optimizer.zero_grad()
    policy_loss.backward()
    optimizer.step()
    del policy.rewards[:]
    del policy.saved_log_probs[:]


def main(episodes=60):
    torch.manual_seed(543)
    env = Corridor()
    policy = Policy()
    optimizer = optim.Adam(policy.parameters(), lr=3e-2)
    lengths = []
    for _ in range(episodes):
        state = env.reset()
        for t in range(1, 60):
            action = select_action(policy, state)
            state, reward, done = env.step(action)
            policy.rewards.append(reward)
            if done:
                break
        lengths.append(t)
        finish_episode(policy, optimizer)
    return lengths
