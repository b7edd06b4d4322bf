"""Tests for lrbook.parallel: meshes, sharded rows and the sharded fit.

JAX fixes its number of CPU devices when it starts, so the tests on four
simulated devices run in a fresh Python process with ``XLA_FLAGS`` set and
report back as JSON; the tests of input checks run here, on one device.
"""

import json
import os
import subprocess
import sys
import textwrap
import warnings

import jax
import numpy as np
import optax
import pytest

import lrbook
from lrbook.optim import ConvergenceWarning
from lrbook.parallel import (
    COLLECTIVES,
    collective_ops,
    fit_sharded,
    make_mesh,
    pad_rows,
    shard_rows,
)

FOUR_DEVICES = textwrap.dedent(
    """
    import json

    import jax
    import numpy as np
    import optax

    jax.config.update("jax_enable_x64", True)

    from lrbook.data import simulate
    from lrbook.glm import newton_glm
    from lrbook.losses import init_params
    from lrbook.parallel import (
        collective_ops, fit_sharded, make_mesh, shard_rows,
    )

    def vector(params):
        return np.r_[params["bias"], params["weights"]]

    out = {"n_devices": len(jax.devices())}
    mesh, one = make_mesh(4), make_mesh(1)
    X, y = simulate(n=20_000, weights=(1.5, -0.8, 0.4), seed=3)
    methods = {"newton": "newton", "lbfgs": "lbfgs", "adam": optax.adam(0.05)}
    for name, method in methods.items():
        sharded = fit_sharded(X, y, mesh=mesh, method=method, max_iter=3000)
        single = fit_sharded(X, y, mesh=one, method=method, max_iter=3000)
        out[name] = {
            "sharded": vector(sharded.params).tolist(),
            "single": vector(single.params).tolist(),
            "loss": [float(sharded.loss_history[-1]),
                     float(single.loss_history[-1])],
            "spec": str(sharded.params["weights"].sharding.spec),
        }

    # 20,003 rows: padded to 20,004 with one zero-weight row on 4 devices.
    padded = fit_sharded(X[:20_003], y[:20_003], mesh=mesh)
    out["padded"] = vector(padded.params).tolist()
    unpadded = fit_sharded(X[:20_003], y[:20_003], mesh=one)
    out["unpadded"] = vector(unpadded.params).tolist()

    X_s, y_s = shard_rows(mesh, X, y.astype(float))
    out["shard_shapes"] = [
        list(s.data.shape) for s in X_s.addressable_shards
    ]
    out["devices"] = sorted(d.id for d in X_s.sharding.device_set)
    out["collectives_one_block"] = collective_ops(
        newton_glm, X_s, y_s, init_params(3), chunk_rows=X.shape[0]
    )
    out["collectives_blocked"] = collective_ops(
        newton_glm, X_s, y_s, init_params(3), chunk_rows=4096
    )
    try:
        shard_rows(mesh, X[:10], y[:10])
    except ValueError as err:
        out["indivisible"] = str(err)
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def four_devices():
    """Run FOUR_DEVICES in a fresh interpreter with four CPU devices."""
    env = dict(os.environ)
    flag = "--xla_force_host_platform_device_count=4"
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flag}".strip()
    env["JAX_PLATFORMS"] = "cpu"
    completed = subprocess.run(
        [sys.executable, "-c", FOUR_DEVICES],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_subprocess_sees_four_devices(four_devices):
    assert four_devices["n_devices"] == 4


@pytest.mark.parametrize("method", ["newton", "lbfgs", "adam"])
def test_sharded_fit_equals_single_device_fit(four_devices, method):
    result = four_devices[method]
    # Only the order of the sums over rows differs, so the two fits agree to
    # rounding error; Newton's stopping rule (step below 1e-10) sets the
    # scale. A missing or doubled share of rows would miss by ~1e-2.
    np.testing.assert_allclose(result["sharded"], result["single"], rtol=0, atol=1e-9)
    sharded_loss, single_loss = result["loss"]
    assert sharded_loss == pytest.approx(single_loss, rel=1e-12)
    # The parameters come back replicated on every device.
    assert result["spec"] == "P()"


def test_newton_and_lbfgs_agree_on_four_devices(four_devices):
    np.testing.assert_allclose(
        four_devices["newton"]["sharded"], four_devices["lbfgs"]["sharded"],
        rtol=0, atol=1e-8,
    )


def test_padding_with_zero_weight_rows_leaves_the_fit_unchanged(four_devices):
    np.testing.assert_allclose(
        four_devices["padded"], four_devices["unpadded"], rtol=0, atol=1e-9
    )


def test_rows_are_split_evenly(four_devices):
    assert four_devices["shard_shapes"] == [[5000, 3]] * 4
    assert four_devices["devices"] == [0, 1, 2, 3]


def test_one_block_newton_needs_only_all_reduces(four_devices):
    one_block = four_devices["collectives_one_block"]
    assert one_block["all-reduce"] >= 1
    assert one_block["all-gather"] == 0
    # The blocked Hessian slices rows at run-time offsets, so XLA gathers X:
    # the reason fit_sharded uses one block per device.
    assert four_devices["collectives_blocked"]["all-gather"] >= 1


def test_indivisible_rows_are_refused(four_devices):
    message = four_devices["indivisible"]
    assert "10, is not a multiple of the 4 devices" in message
    assert "pad_rows" in message


# ----------------------------------------------------- one device, in-process


def test_make_mesh_defaults():
    mesh = make_mesh()
    assert dict(mesh.shape) == {"rows": len(jax.devices())}
    assert mesh.axis_types == (jax.sharding.AxisType.Auto,)
    assert make_mesh(1, axis_name="batch").axis_names == ("batch",)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_devices": 0}, ValueError, "between 1 and the"),
        ({"n_devices": 10_000}, ValueError, "xla_force_host_platform_device_count"),
        ({"n_devices": 2.0}, TypeError, "must be an integer; got 2.0"),
        ({"n_devices": True}, TypeError, "must be an integer; got True"),
        ({"axis_name": ""}, TypeError, "non-empty string"),
    ],
)
def test_make_mesh_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_mesh(**kwargs)


def test_shard_rows_places_arrays_and_passes_none_through():
    mesh = make_mesh(1)
    X, y, weight = shard_rows(mesh, np.ones((6, 2)), np.zeros(6), None)
    assert weight is None
    assert X.shape == (6, 2) and y.shape == (6,)
    assert X.sharding == jax.sharding.NamedSharding(
        mesh, jax.sharding.PartitionSpec("rows")
    )


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((), ValueError, "at least one array"),
        ((np.ones((3, 2)), np.ones(4)), ValueError, r"same number of rows; got \[3,"),
        ((np.ones(3), np.float64(1.0)), ValueError, "got a scalar"),
    ],
)
def test_shard_rows_rejects_bad_arrays(args, error, match):
    with pytest.raises(error, match=match):
        shard_rows(make_mesh(1), *args)


def test_shard_rows_needs_a_mesh_and_a_known_axis():
    with pytest.raises(TypeError, match=r"must be a jax\.sharding\.Mesh; got str"):
        shard_rows("rows", np.ones(2))
    with pytest.raises(ValueError, match="'cols' is not an axis"):
        shard_rows(make_mesh(1), np.ones(2), axis_name="cols")


def test_pad_rows():
    X, y, none, weight = pad_rows(
        np.arange(10.0).reshape(5, 2), np.ones(5, int), None, multiple=4
    )
    assert X.shape == (8, 2) and y.shape == (8,) and none is None
    assert X[5:].tolist() == [[0.0, 0.0]] * 3
    assert y.dtype == np.dtype(int)
    assert weight.tolist() == [1.0] * 5 + [0.0] * 3
    # Already a multiple: nothing is added.
    X, weight = pad_rows(np.ones((4, 1)), multiple=2)
    assert X.shape == (4, 1) and weight.tolist() == [1.0] * 4


@pytest.mark.parametrize(
    ("args", "multiple", "match"),
    [
        ((np.ones(3),), 0, "positive integer; got 0"),
        ((np.ones(3), np.ones(2)), 2, "same number of rows"),
        ((), 2, "one or more arrays"),
    ],
)
def test_pad_rows_rejects_bad_input(args, multiple, match):
    with pytest.raises(ValueError, match=match):
        pad_rows(*args, multiple=multiple)


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("method", ["newton", "lbfgs"])
def test_one_device_fit_matches_lrbook_fit(small_data, method):
    X, y = small_data
    result = fit_sharded(X, y, mesh=make_mesh(1), method=method)
    reference = lrbook.fit(X, y)
    estimate = np.r_[result.params["bias"], result.params["weights"]]
    np.testing.assert_allclose(estimate, reference.coef, rtol=0, atol=1e-8)
    assert bool(result.converged)
    assert result.loss_history.shape == (int(result.n_iter) + 1,)


@pytest.mark.usefixtures("x64")
def test_fit_sharded_with_probit_and_penalty_matches_lrbook_fit(small_data):
    X, y = small_data
    result = fit_sharded(X, y, mesh=make_mesh(1), link="probit", penalty=0.01)
    reference = lrbook.fit(X, y, link="probit", penalty=0.01)
    estimate = np.r_[result.params["bias"], result.params["weights"]]
    np.testing.assert_allclose(estimate, reference.coef, rtol=0, atol=1e-8)


def test_fit_sharded_rejects_unknown_method_and_link(small_data):
    X, y = small_data
    with pytest.raises(ValueError, match="method must be 'newton', 'lbfgs' or an"):
        fit_sharded(X, y, mesh=make_mesh(1), method="adam")
    with pytest.raises(ValueError, match="unknown link 'tanh'"):
        fit_sharded(X, y, mesh=make_mesh(1), link="tanh")
    with pytest.raises(ValueError, match="y must contain only 0 and 1"):
        fit_sharded(X, y + 1, mesh=make_mesh(1))


def test_fit_sharded_warns_when_newton_stops_early(small_data):
    X, y = small_data
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        fit_sharded(X, y, mesh=make_mesh(1), max_iter=1)


def test_fit_sharded_with_optax_is_quiet_once_converged(small_data):
    X, y = small_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = fit_sharded(
            X, y, mesh=make_mesh(1), method=optax.adam(0.05), max_iter=2000
        )
    assert bool(result.converged)


def test_collective_ops_on_one_device():
    counts = collective_ops(jax.jit(lambda x: x.sum()), np.ones(4))
    assert list(counts) == list(COLLECTIVES)
    assert set(counts.values()) == {0}
    with pytest.raises(TypeError, match="must be jitted"):
        collective_ops(lambda x: x, np.ones(4))
