"""Multinomial logistic regression, trained with L-BFGS on float32 features.

Our own small trainer rather than scikit-learn's, for three reasons: the
features come in blocks (sparse n-grams, dense embeddings) that are each
multiplied in their best form instead of one sparse matrix with a dense
block inside; a block can be held fixed while the others warm-start from
earlier weights (a phrase added to a large model); and the matrices stay in
float32, half the memory and time of a float64 copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
from scipy import optimize, sparse

Matrix = np.ndarray | sparse.csr_matrix

# scipy multiplies sparse matrices without holding the GIL, so row blocks
# multiplied in two threads nearly halve the time of the costliest step on
# the two cores veiviser is sized for. Dense blocks are left to BLAS.
WORKERS = 2
_pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="softmax")


class _RowBlocks:
    """A matrix cut into row blocks that are multiplied in parallel."""

    def __init__(self, matrix: Matrix) -> None:
        if sparse.issparse(matrix) and matrix.shape[0] >= 2 * WORKERS:
            bounds = np.linspace(0, matrix.shape[0], WORKERS + 1).astype(int)
            self.parts = [matrix[a:b] for a, b in pairwise(bounds)]
        else:
            self.parts = [matrix]

    def __matmul__(self, right: np.ndarray) -> np.ndarray:
        if len(self.parts) == 1:
            return np.asarray(self.parts[0] @ right)
        return np.vstack(list(_pool.map(lambda part: part @ right, self.parts)))


def fit_softmax(
    blocks: Sequence[Matrix],
    target: np.ndarray,
    n_classes: int,
    c: float,
    *,
    init: tuple[Sequence[np.ndarray], np.ndarray] | None = None,
    offset: np.ndarray | None = None,
    max_iter: int = 300,
    tol: float = 1e-4,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Fit weights that minimise cross-entropy plus an L2 penalty.

    The penalty is scaled as in scikit-learn (``C`` times the summed loss
    against half the squared weights), so the same ``c`` means the same model.

    Args:
        blocks: feature blocks with one row per training row, float32, dense
            or CSR; the logits are the sum of each block times its weights.
        target: (n_rows,) class indices.
        n_classes: the number of classes (some may have no rows).
        c: inverse regularisation strength.
        init: starting (block weights, bias), e.g. the previous model's.
        offset: (n_rows, n_classes) logits added as they are, from blocks
            held fixed.
        max_iter: the most L-BFGS iterations.
        tol: stop when the largest gradient entry of the summed loss (as
            scikit-learn scales it) is this small.

    Returns:
        ``(weights, bias)``: one (n_features, n_classes) array per block, and
        the (n_classes,) bias.
    """
    n_rows = blocks[0].shape[0]
    sizes = [b.shape[1] for b in blocks]
    onehot = np.zeros((n_rows, n_classes), dtype=np.float32)
    onehot[np.arange(n_rows), target] = 1.0
    transposed = [
        _RowBlocks(b.T.tocsr() if sparse.issparse(b) else b.T) for b in blocks
    ]
    blocks = [_RowBlocks(b) for b in blocks]
    bounds = np.cumsum([0, *sizes])
    # Mean loss plus alpha/2 |W|^2 has the same minimum as C*sum + |W|^2/2.
    alpha = 1.0 / (c * n_rows)
    shape = (int(bounds[-1]) + 1, n_classes)

    def loss_and_gradient(flat: np.ndarray) -> tuple[float, np.ndarray]:
        params = flat.reshape(shape).astype(np.float32)
        weights = [params[bounds[i] : bounds[i + 1]] for i in range(len(blocks))]
        logits = np.zeros((n_rows, n_classes), dtype=np.float32) + params[-1]
        if offset is not None:
            logits += offset
        for block, block_weights in zip(blocks, weights, strict=True):
            logits += np.asarray(block @ block_weights)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        total = exp.sum(axis=1, keepdims=True)
        log_likelihood = (logits * onehot).sum() - np.log(total).sum()
        residual = (exp / total - onehot) / n_rows
        gradient = np.empty(shape, dtype=np.float64)
        for i, block_t in enumerate(transposed):
            gradient[bounds[i] : bounds[i + 1]] = (
                np.asarray(block_t @ residual) + alpha * weights[i]
            )
        gradient[-1] = residual.sum(axis=0)
        penalty = 0.5 * alpha * float(np.square(params[:-1], dtype=np.float64).sum())
        return -float(log_likelihood) / n_rows + penalty, gradient.ravel()

    start = np.zeros(shape, dtype=np.float64)
    if init is not None:
        init_weights, init_bias = init
        for i, block_weights in enumerate(init_weights):
            start[bounds[i] : bounds[i + 1]] = block_weights
        start[-1] = init_bias
    result = optimize.minimize(
        loss_and_gradient,
        start.ravel(),
        jac=True,
        method="L-BFGS-B",
        # The loss here is the summed loss divided by C * n_rows.
        # Limitation: L-BFGS keeps 2 * maxcor float64 copies of all weights,
        # about 0.8 GB for BANKING77 and 3 GB for CLINC150; try maxcor=10 or
        # fewer character n-grams when memory matters more than iterations.
        options={"maxiter": max_iter, "gtol": tol / (c * n_rows), "maxcor": 20},
    )
    params = result.x.reshape(shape).astype(np.float32)
    weights = [params[bounds[i] : bounds[i + 1]].copy() for i in range(len(blocks))]
    return weights, params[-1].copy()
