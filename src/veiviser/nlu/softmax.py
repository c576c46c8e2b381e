"""Multinomial logistic regression, trained with L-BFGS on float32 features.

Our own small trainer rather than scikit-learn's, for three reasons: it can
start from earlier weights when classes are added (warm start after an
edit), it keeps the feature matrix in float32 (half the memory and time of a
float64 copy), and dense and sparse matrices go through the same code.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, sparse

Matrix = np.ndarray | sparse.csr_matrix


def fit_softmax(
    features: Matrix,
    target: np.ndarray,
    n_classes: int,
    c: float,
    *,
    init: tuple[np.ndarray, np.ndarray] | None = None,
    max_iter: int = 300,
    tol: float = 1e-5,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit weights that minimise cross-entropy plus an L2 penalty.

    The penalty is scaled as in scikit-learn (``C`` times the summed loss
    against half the squared weights), so the same ``c`` means the same model.

    Args:
        features: (n_rows, n_features) float32, dense or CSR.
        target: (n_rows,) class indices.
        n_classes: the number of classes (some may have no rows).
        c: inverse regularisation strength.
        init: starting (weights, bias), e.g. the previous model's.
        max_iter: the most L-BFGS iterations.
        tol: stop when the projected gradient is this small.

    Returns:
        ``(weights, bias)`` with shapes (n_features, n_classes) and (n_classes,).
    """
    n_rows, n_features = features.shape
    onehot = np.zeros((n_rows, n_classes), dtype=np.float32)
    onehot[np.arange(n_rows), target] = 1.0
    transposed = features.T.tocsr() if sparse.issparse(features) else features.T
    # Mean loss plus alpha/2 |W|^2 has the same minimum as C*sum + |W|^2/2.
    alpha = 1.0 / (c * n_rows)
    shape = (n_features + 1, n_classes)

    def loss_and_gradient(flat: np.ndarray) -> tuple[float, np.ndarray]:
        params = flat.reshape(shape).astype(np.float32)
        weights, bias = params[:-1], params[-1]
        logits = np.asarray(features @ weights) + bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        total = exp.sum(axis=1, keepdims=True)
        log_likelihood = (logits * onehot).sum() - np.log(total).sum()
        residual = (exp / total - onehot) / n_rows
        gradient = np.empty(shape, dtype=np.float64)
        gradient[:-1] = np.asarray(transposed @ residual) + alpha * weights
        gradient[-1] = residual.sum(axis=0)
        penalty = 0.5 * alpha * float(np.square(weights, dtype=np.float64).sum())
        return -float(log_likelihood) / n_rows + penalty, gradient.ravel()

    start = np.zeros(shape, dtype=np.float64)
    if init is not None:
        start[:-1], start[-1] = init
    result = optimize.minimize(
        loss_and_gradient,
        start.ravel(),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol, "maxcor": 20},
    )
    params = result.x.reshape(shape).astype(np.float32)
    return params[:-1].copy(), params[-1].copy()
