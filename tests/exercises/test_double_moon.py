import numpy as np
import pytest

from coursekit.exercises import double_moon as dm


def _params(rng, h=4):
    return rng.standard_normal((2, h)), rng.standard_normal(h), rng.standard_normal(h), float(rng.standard_normal())


def test_analytic_gradient_matches_central_differences():
    rng = np.random.default_rng(0)
    for _ in range(20):
        X, Y = rng.standard_normal(2), float(2 * rng.integers(2) - 1)
        params = _params(rng)
        for a, n in zip(dm.gradient_nn(X, Y, *params), dm.gradient_nn_numerical(X, Y, *params)):
            np.testing.assert_allclose(a, n, atol=1e-7)


def test_numerical_gradient_is_central_not_forward():
    # with a coarse step, central differences are O(eps^2) off and forward ones O(eps): 1e-2 tells them apart
    rng = np.random.default_rng(1)
    X, Y = np.array([0.3, -0.2]), 1.0
    Wi, bi, Wo, bo = np.abs(rng.standard_normal((2, 3))), np.ones(3), rng.standard_normal(3), 0.5
    analytic = dm.gradient_nn(X, Y, Wi, bi, Wo, bo)
    coarse = dm.gradient_nn_numerical(X, Y, Wi, bi, Wo, bo, eps=1e-2)
    for a, n in zip(analytic, coarse):
        np.testing.assert_allclose(a, n, atol=2e-5)


def test_gradcheck_passes_and_fails_on_a_wrong_gradient(capsys):
    assert dm.gradcheck(100)
    assert "SUCCESS" in capsys.readouterr().out

    def wrong(X, Y, Wi, bi, Wo, bo):
        gWi, gbi, gWo, gbo = dm.gradient_nn(X, Y, Wi, bi, Wo, bo)
        return gWi, gbi, -gWo, gbo  # a sign error in one parameter's gradient

    assert not dm.gradcheck(100, gradient=wrong)
    assert "FAILURE" in capsys.readouterr().out


def test_loss_and_sigmoid_do_not_overflow():
    with np.errstate(over="raise", invalid="raise"):
        assert dm.logistic_loss(1, 1000.0) == pytest.approx(0.0, abs=1e-300)
        assert dm.logistic_loss(1, -1000.0) == pytest.approx(1000.0)
        assert dm.logistic_loss(-1, 1000.0) == pytest.approx(1000.0)
        assert float(dm.sigm(-1000.0)) == 0.0 and float(dm.sigm(1000.0)) == 1.0
        assert float(dm.sigm(0.0)) == 0.5  # a 0-d input: the seed's sigm fails on numpy 2 here
    Wi, bi, Wo, bo = np.ones((2, 1)), np.zeros(1), np.array([1000.0]), 0.0
    Po, Yo, loss = dm.nnet_forward_logloss(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([-1.0, 1.0]), Wi, bi, Wo, bo)
    np.testing.assert_allclose(Yo, [1000.0, 0.0])
    np.testing.assert_allclose(loss, [1000.0, np.log(2)])
    assert np.all(np.isfinite(Po))


def _plain_loop(Xtr, Ytr, Xval, Yval, lr, draws, Wi0):
    """The seed's loop, one example at a time, with the given draws."""
    Wi, bi, Wo, bo = Wi0.copy(), np.zeros(Wi0.shape[1]), np.zeros(Wi0.shape[1]), 0.0
    tr, val = [], []
    for n in draws:
        gWi, gbi, gWo, gbo = dm.gradient_nn(Xtr[n], Ytr[n], Wi, bi, Wo, bo)
        Wi, bi, Wo, bo = Wi - lr * gWi, bi - lr * gbi, Wo - lr * gWo, bo - lr * gbo
        tr.append(100 * np.mean(np.sign(dm.nnet_forward_logloss(Xtr, Ytr, Wi, bi, Wo, bo)[1]) != Ytr))
        val.append(100 * np.mean(np.sign(dm.nnet_forward_logloss(Xval, Yval, Wi, bi, Wo, bo)[1]) != Yval))
    return np.array(tr), np.array(val), (Wi, bi, Wo, bo)


def test_batched_runs_equal_plain_loops_step_for_step():
    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(n=200, seed=3)
    rng = np.random.default_rng(4)
    hs, lrs, steps = [1, 7, 20, 7], [0.02, 2.0, 0.2, 0.002], 700
    Wi0 = [rng.standard_normal((2, h)) for h in hs]
    draws = rng.integers(200, size=(len(hs), steps))
    runs = dm.sgd_runs(Xtr, Ytr, Xval, Yval, hs, lrs, draws, Wi0, block=16)
    for r in range(len(hs)):
        tr, val, params = _plain_loop(Xtr, Ytr, Xval, Yval, lrs[r], draws[r], Wi0[r])
        np.testing.assert_allclose(runs.tr_error[r], tr, atol=1e-9)
        np.testing.assert_allclose(runs.val_error[r], val, atol=1e-9)
        for got, want in zip(runs.params[r], params):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert runs.tr_error[2, -1] < 20 and runs.tr_error[1].std() > 0  # it learns; lr = 2 jumps about


def test_train_loop_follows_the_seed_and_learns():
    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(n=300, seed=5)
    tr, val, (Wi, bi, Wo, bo) = dm.train_loop(Xtr, Ytr, Xval, Yval, 7, 0.2, vis="never", nEpochs=5, seed=0,
                                              return_params=True)
    assert tr.shape == val.shape == (5 * 300,)
    assert tr[-1] < 10 and val[-1] < 15 and tr[0] > tr[-1]
    again = dm.train_loop(Xtr, Ytr, Xval, Yval, 7, 0.2, vis="never", nEpochs=5, seed=0)
    np.testing.assert_array_equal(again[0], tr)
    assert Wi.shape == (2, 7) and bi.shape == Wo.shape == (7,)


def test_sweep_groups_trials_per_setting():
    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(n=100, seed=6)
    res = dm.sweep(Xtr, Ytr, Xval, Yval, [(2, 0.02), (5, 0.2)], trials=3, nEpochs=2, seed=0)
    assert list(res) == [(2, 0.02), (5, 0.2)]
    assert all(tr.shape == va.shape == (3, 200) for tr, va in res.values())


def test_generated_data_and_mat_files(tmp_path):
    from scipy.io import savemat

    Xtr, Ytr, Xval, Yval, source = dm.load_double_moon()
    assert Xtr.shape == Xval.shape == (1000, 2) and set(np.unique(Ytr)) == {-1.0, 1.0}
    assert "generated" in source and not np.array_equal(Xtr, Xval)
    savemat(tmp_path / "double_moon_train1000.mat", {"X": Xtr, "Y": Ytr})
    savemat(tmp_path / "double_moon_val1000.mat", {"X": Xval.T, "Y": Yval})  # X stored 2 x N also works
    got = dm.load_double_moon(tmp_path)
    np.testing.assert_allclose(got[0], Xtr)
    np.testing.assert_allclose(got[2], Xval)
    assert "tmp" in got[4] or str(tmp_path) in got[4]
    (tmp_path / "double_moon_val1000.mat").unlink()
    with pytest.raises(FileNotFoundError, match="lacks double_moon_val1000.mat"):
        dm.load_double_moon(tmp_path)


def test_numerical_gradient_works_in_float64_whatever_it_is_given_and_leaves_the_inputs_alone():
    # float32 parameters perturbed by eps = 1e-6 in float32 would lose most digits of the difference
    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal(2), -1.0
    params = tuple(np.asarray(p, np.float32) for p in _params(rng, h=3))
    before = [p.copy() for p in params]
    numeric = dm.gradient_nn_numerical(X, Y, *params)
    analytic = dm.gradient_nn(X, Y, *(np.asarray(p, np.float64) for p in params))
    for a, n in zip(analytic, numeric):
        assert np.asarray(n).dtype == np.float64
        np.testing.assert_allclose(n, a, atol=1e-7)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p, b)


def _recording(calls):
    def gradient(X, Y, Wi, bi, Wo, bo):
        calls.append((X.copy(), Y, Wi.shape))
        return dm.gradient_nn(X, Y, Wi, bi, Wo, bo)
    return gradient


def test_gradcheck_defaults_follow_the_assignment():
    """1,000 random cases of a 3-unit network, labels in {-1, 1}, tolerance 1e-6, repeatable (seed 0)."""
    calls, again, other = [], [], []
    assert dm.gradcheck(gradient=_recording(calls), verbose=False)
    assert len(calls) == 1000 and {shape for _, _, shape in calls} == {(2, 3)}
    assert {y for _, y, _ in calls} == {-1, 1}
    dm.gradcheck(10, seed=0, gradient=_recording(again), verbose=False)
    dm.gradcheck(10, seed=1, gradient=_recording(other), verbose=False)
    np.testing.assert_array_equal([x for x, _, _ in calls[:10]], [x for x, _, _ in again])
    assert not np.array_equal([x for x, _, _ in again], [x for x, _, _ in other])

    def off_by_1e_5(*args):
        return tuple(np.asarray(g) + 1e-5 for g in dm.gradient_nn(*args))

    assert not dm.gradcheck(5, gradient=off_by_1e_5, verbose=False)  # the default tolerance is tight
    assert dm.gradcheck(5, gradient=off_by_1e_5, tol=1e-4, verbose=False)


def test_gradcheck_keeps_the_worst_case_and_accepts_an_exact_match(capsys):
    calls = []

    def wrong_on_the_first_case_only(*args):
        calls.append(1)
        grads = dm.gradient_nn(*args)
        return grads if len(calls) > 1 else tuple(np.asarray(g) + 1.0 for g in grads)

    assert not dm.gradcheck(20, gradient=wrong_on_the_first_case_only)
    assert "FAILURE: Fix gradient_nn and/or gradient_nn_numerical" in capsys.readouterr().out
    # a gradient identical to the numerical one is within any tolerance, even 0
    assert dm.gradcheck(5, tol=0.0, gradient=lambda *args: dm.gradient_nn_numerical(*args))
    assert capsys.readouterr().out == "SUCCESS: Passed gradcheck.\n"


def test_train_loop_draws_what_vis_asks_and_defaults_to_the_seeds_settings():
    import matplotlib.pyplot as plt

    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(n=20, seed=8)
    for vis, figures in [("never", 0), ("last", 1), ("all", 2)]:
        plt.close("all")
        tr, _ = dm.train_loop(Xtr, Ytr, Xval, Yval, 3, 0.1, vis=vis, nEpochs=2, seed=0)
        assert len(plt.get_fignums()) == figures, vis
        if figures:
            boundary = plt.figure(plt.get_fignums()[0])
            assert boundary.axes[0].get_title() == f"h = 3, lr = 0.1: training error {tr[-1]:.2f}%"
            np.testing.assert_array_equal(boundary.axes[0].collections[-1].get_array(), Ytr)  # points by class
    plt.close("all")
    out = dm.train_loop(Xtr, Ytr, Xval, Yval, 3, 0.1, seed=0)  # vis="all", nEpochs=100, no parameters
    assert len(out) == 2 and out[0].shape == (100 * 20,) and len(plt.get_fignums()) == 2
    plt.close("all")


def test_sweep_defaults_and_that_every_run_learns():
    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(n=10, seed=9)
    res = dm.sweep(Xtr, Ytr, Xval, Yval, [(4, 0.1)])  # 5 trials of 40 epochs, seed 0
    tr, val = res[(4, 0.1)]
    assert tr.shape == val.shape == (5, 40 * 10)
    again = dm.sweep(Xtr, Ytr, Xval, Yval, [(4, 0.1)], trials=5, nEpochs=40, seed=0)[(4, 0.1)]
    np.testing.assert_array_equal(again[0], tr)
    assert not np.array_equal(dm.sweep(Xtr, Ytr, Xval, Yval, [(4, 0.1)], seed=1)[(4, 0.1)][0], tr)
    assert np.all(tr[:, -20:].mean(axis=1) < tr[:, :20].mean(axis=1))  # every trial improves
    assert len({tuple(row) for row in tr}) == 5  # each trial has its own weights and draws


@pytest.mark.parametrize("block", [1, 2, 3, 5])
def test_short_blocks_and_large_steps_still_equal_plain_loops(block):
    # the skip-the-sure-points bound has to hold for every step of a block, the second one included;
    # large learning rates on spread-out points make outputs jump so that a bound missing a step shows
    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(n=120, seed=10)
    Xtr, Xval = 1.5 * Xtr, 1.5 * Xval
    rng = np.random.default_rng(11)
    hs, lrs, steps = [3, 9], [1.0, 4.0], 240
    Wi0 = [rng.standard_normal((2, h)) for h in hs]
    draws = rng.integers(120, size=(len(hs), steps))
    runs = dm.sgd_runs(Xtr, Ytr, Xval, Yval, hs, lrs, draws, Wi0, block=block)
    for r in range(len(hs)):
        tr, val, _ = _plain_loop(Xtr, Ytr, Xval, Yval, lrs[r], draws[r], Wi0[r])
        np.testing.assert_allclose(runs.tr_error[r], tr, atol=1e-9)  # one point is 0.83 percentage points
        np.testing.assert_allclose(runs.val_error[r], val, atol=1e-9)


def test_sgd_runs_takes_float32_and_lists_as_float64_and_checks_its_run_counts():
    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(n=50, seed=12)
    rng = np.random.default_rng(13)
    Wi0, draws = [rng.standard_normal((2, 4))], rng.integers(50, size=(1, 60))
    exact = dm.sgd_runs(Xtr, Ytr, Xval, Yval, [4], [0.3], draws, Wi0)
    f32 = [a.astype(np.float32) for a in (Xtr, Ytr, Xval, Yval)]
    rounded = dm.sgd_runs(*f32, [4], np.array([0.3], np.float32), draws, Wi0)
    as_f64 = dm.sgd_runs(*(a.astype(np.float64) for a in f32), [4], [float(np.float32(0.3))], draws, Wi0)
    for got, want in zip(rounded.params[0], as_f64.params[0]):
        np.testing.assert_array_equal(got, want)  # float32 inputs are widened before any arithmetic
    np.testing.assert_array_equal(rounded.tr_error, as_f64.tr_error)
    assert exact.tr_error.dtype == np.float64
    for bad, what in [(dict(hs=[4, 4]), "2 hs"), (dict(lrs=[0.3, 0.3]), "2 lrs"), (dict(Wi0=Wi0 * 2), "2 initial")]:
        args = {**dict(hs=[4], lrs=[0.3], Wi0=Wi0), **bad}
        with pytest.raises(ValueError, match=f"1 runs in draws but .*{what}"):
            dm.sgd_runs(Xtr, Ytr, Xval, Yval, args["hs"], args["lrs"], draws, args["Wi0"])


def test_sigmoid_and_loss_widen_float32_to_float64():
    z = np.array([-30.0, -2.0, 0.0, 0.7, 25.0], np.float32)
    for got, want in [(dm.sigm(z), dm.sigm(z.astype(np.float64))),
                      (dm.logistic_loss(np.float32(1), z), dm.logistic_loss(1.0, z.astype(np.float64))),
                      (dm.logistic_loss(np.ones(5, np.float32), z), dm.logistic_loss(np.ones(5), z.astype(np.float64)))]:
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want)


def test_relu_derivative_at_exactly_zero_is_zero():
    # X = 0 and a zero bias put unit 0 exactly at the kink; ReLU'(0) = 0 there (as np.maximum's step and TF's relu)
    X, Y = np.zeros(2), 1.0
    Wi, bi, Wo, bo = np.ones((2, 3)), np.array([0.0, 1.0, -1.0]), np.array([0.5, -0.5, 2.0]), 0.1
    _, grad_bi, grad_Wo, _ = dm.gradient_nn(X, Y, Wi, bi, Wo, bo)
    assert grad_bi[0] == 0.0 and grad_bi[2] == 0.0 and grad_bi[1] != 0.0
    assert grad_Wo[0] == 0.0


def test_sweep_trial_k_is_sgd_runs_on_the_kth_draws_of_its_generator():
    """Per setting and trial, in order: Wi0 ~ N(0, 1) of shape (2, h), then the example drawn at each step."""
    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(n=30, seed=14)
    settings, trials, epochs = [(3, 0.2), (5, 0.05)], 2, 3
    res = dm.sweep(Xtr, Ytr, Xval, Yval, settings, trials=trials, nEpochs=epochs, seed=15)
    rng = np.random.default_rng(15)
    for h, lr in settings:
        for k in range(trials):
            Wi0 = rng.standard_normal((2, h))
            draws = rng.integers(30, size=(1, epochs * 30))
            runs = dm.sgd_runs(Xtr, Ytr, Xval, Yval, [h], [lr], draws, [Wi0])
            np.testing.assert_array_equal(res[(h, lr)][0][k], runs.tr_error[0])
            np.testing.assert_array_equal(res[(h, lr)][1][k], runs.val_error[0])


def test_batched_runs_take_relu_prime_0_as_0_like_the_plain_loop():
    # the origin as a training point: with the bias still 0 after step 1, step 2 puts every unit at the kink
    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(n=20, seed=16)
    Xtr[0] = 0.0
    rng = np.random.default_rng(17)
    Wi0 = [np.abs(rng.standard_normal((2, 4)))]
    draws = np.array([[int(np.argmax(Xtr.sum(axis=1))), 0, 0, 3, 0, 7, 0]])  # a point where units are active first
    runs = dm.sgd_runs(Xtr, Ytr, Xval, Yval, [4], [0.5], draws, Wi0)
    _, _, params = _plain_loop(Xtr, Ytr, Xval, Yval, 0.5, draws[0], Wi0[0])
    for got, want in zip(runs.params[0], params):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_sgd_runs_names_draws_weights_and_block_that_do_not_fit():
    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(n=30, seed=18)
    Wi0, draws = [np.ones((2, 3))], np.zeros((1, 5), dtype=int)
    with pytest.raises(ValueError, match=r"draws index examples 2\.\.30; there are 30"):
        dm.sgd_runs(Xtr, Ytr, Xval, Yval, [3], [0.1], draws + np.arange(5) * 7 + 2, Wi0)
    with pytest.raises(ValueError, match=r"Wi0\[0\] has shape \(3, 2\); run 0 has h = 3"):
        dm.sgd_runs(Xtr, Ytr, Xval, Yval, [3], [0.1], draws, [np.ones((3, 2))])
    with pytest.raises(ValueError, match="block=0"):
        dm.sgd_runs(Xtr, Ytr, Xval, Yval, [3], [0.1], draws, Wi0, block=0)
    with pytest.raises(ValueError, match="runs x steps"):
        dm.sgd_runs(Xtr, Ytr, Xval, Yval, [3], [0.1], draws[0], Wi0)


def test_runs_on_threads_equal_runs_one_after_another():
    from coursekit.exercises.double_moon_sgd import run_all

    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(n=60, seed=19)
    rng = np.random.default_rng(20)
    hs, lrs = [1, 12, 3, 12], np.array([0.05, 0.1, 0.5, 0.02])
    Wi0 = [rng.standard_normal((2, h)) for h in hs]
    draws = rng.integers(60, size=(4, 150))
    one = run_all(Xtr, Ytr, Xval, Yval, hs, lrs, draws, Wi0, 16, threads=1)
    many = run_all(Xtr, Ytr, Xval, Yval, hs, lrs, draws, Wi0, 16, threads=3)
    np.testing.assert_array_equal(one[0], many[0])
    np.testing.assert_array_equal(one[1], many[1])
    for a, b in zip(one[2], many[2]):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    assert [p[0].shape for p in one[2]] == [(2, h) for h in hs]


def test_compiled_loops_do_without_a_cache_where_numba_has_no_folder_for_one(monkeypatch):
    from coursekit.exercises import double_moon_sgd

    asked = []

    def njit(**options):
        asked.append(options)
        if options.get("cache"):
            raise RuntimeError("cannot cache function 'f': no locator available for file 'f.py'")
        return lambda function: ("compiled", function)

    monkeypatch.setattr(double_moon_sgd, "njit", njit)
    assert double_moon_sgd._compiled(len) == ("compiled", len)
    assert asked == [{"nogil": True, "cache": True}, {"nogil": True}]
