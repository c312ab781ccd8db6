"""Exercise 03: Adam, by hand   [10 points]

Chapter 1 builds this, where training first needs it: Algorithm 2, line 15 updates phi and
theta with Adam (AdamW when weight_decay > 0). Implement one step on the nested params
structure, returning new params and a new state {"m", "v", "t"}, without changing the
inputs. The new state is the next step's input: its t counts the steps taken.

m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  t = t + 1
p = p - lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * p)
with the bias corrections m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t) at the new t.
eps goes outside the square root: it only keeps the division finite where v_hat is 0.
Hint: `tree_map(f, params, grads)` applies f leaf by leaf. Without the bias correction the
first steps are too large: at t = 1, m = (1 - beta1) g and v = (1 - beta2) g^2, so
m / sqrt(v) = 0.1 / sqrt(0.001), about 3.2 times the corrected step of 1 (beta1 = 0.9,
beta2 = 0.999).

Check your work:  lpn-mini grade exercises/ex03_adam_update.py
(Generated from the lpn_mini library by `lpn-mini exercises build`.)
"""
import numpy as onp

from lpn_mini.optim import tree_map


def adam_update(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    """One step of Adam (Kingma & Ba, 2015, Algorithm 1) *descending* the loss.

    m_t = beta1 m_{t-1} + (1 - beta1) g            first moment
    v_t = beta2 v_{t-1} + (1 - beta2) g^2          second moment
    m^_t = m_t / (1 - beta1^t), v^_t = v_t / (1 - beta2^t)    bias correction
    p_t = p_{t-1} - lr (m^_t / (sqrt(v^_t) + eps) + weight_decay p_{t-1})

    ``weight_decay`` > 0 gives AdamW (decoupled decay, Loshchilov & Hutter), the paper's
    outer optimizer. Returns ``(new_params, new_state)``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("adam_update is not implemented yet: replace this line with your code")
