"""lrbook: the companion package of *Logistic regression with JAX and Flax*.

The names below cover fitting, inference and the book's data. The Flax
models (`lrbook.models`), plots (`lrbook.plots`), the bootstrap
(`lrbook.bootstrap`) and sharding (`lrbook.parallel`) are imported from their
modules, which keeps `import lrbook` light.

The package never changes JAX's global configuration; call
``jax.config.update("jax_enable_x64", True)`` yourself for float64.
"""

from lrbook.data import load, simulate, simulate_nonlinear, train_test_split
from lrbook.diagnostics import CollinearityError, SeparationError
from lrbook.inference import (
    coefficient_table,
    covariance,
    hessian,
    log_likelihood,
    null_log_likelihood,
    pseudo_r2,
    standard_errors,
)
from lrbook.links import LINKS, Link, get_link
from lrbook.losses import (
    init_params,
    linear_predictor,
    naive_negative_log_likelihood,
    negative_log_likelihood,
    predict_proba,
)
from lrbook.margins import average_marginal_effects, marginal_effects
from lrbook.optim import (
    ConvergenceWarning,
    FitResult,
    gradient_descent,
    lbfgs,
    newton,
    optax_minimize,
)
from lrbook.regression import METHODS, BinaryRegressionResult, fit

__version__ = "0.1.0"

__all__ = [
    "LINKS",
    "METHODS",
    "BinaryRegressionResult",
    "CollinearityError",
    "ConvergenceWarning",
    "FitResult",
    "Link",
    "SeparationError",
    "__version__",
    "average_marginal_effects",
    "coefficient_table",
    "covariance",
    "fit",
    "get_link",
    "gradient_descent",
    "hessian",
    "init_params",
    "lbfgs",
    "linear_predictor",
    "load",
    "log_likelihood",
    "marginal_effects",
    "naive_negative_log_likelihood",
    "negative_log_likelihood",
    "newton",
    "null_log_likelihood",
    "optax_minimize",
    "predict_proba",
    "pseudo_r2",
    "simulate",
    "simulate_nonlinear",
    "standard_errors",
    "train_test_split",
]
