"""Training: one ``fit``/``partial_fit`` call, from validated arrays to fitted state.

The steps of a call, each once: resolve the class balance (``_balance``),
build the network or bring a warm one up to date with the parameters, run the
epochs (``_net``, notified hooks from ``_hooks``), then set the fitted state
and warn. Nothing passed down into the loop calls back into the estimator.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring

from . import _encoding as enc
from ._balance import resolve_balance
from ._decision import OUTPUTS as _OUTPUTS
from ._decision import fit_temperature, tune_offsets
from ._hooks import ClassBalance, OptimizerValues, Progress
from ._inference import _softmax_
from ._lockstep import run_lockstep
from ._net import _RowView, _SAMNet, _SkNet, _Stopper, _TensorData
from ._reports import REPORT_ROWS, set_fitted_state, set_report_rows, warn_if_collapsed
from ._schedules import TrainingPlan
from .exceptions import DivergenceError
from .losses import ClassWeighted
from .modules import MLP
from .utils._torch import eval_mode, optimizer_kernels

# Bytes per parameter while training: the weights, their gradients and two
# optimizer moments (Adam), float32.
_BYTES_PER_PARAM = 16
# Rows of one scoring pass (validation, the fit's final check, prediction).
_SCORE_ROWS = 8192
# numeric_embedding='auto' tries the periodic embeddings up to this many
# continuous input columns: they widen the first layer ninefold. On digit
# images upscaled to 576, 1,024 and 3,072 columns a fit that tried them took
# 8.0x, 5.4x and 6.9x as long as one without, and kept none, as on every
# digit image of the quality benchmark (benchmarks/README.md, "Stop 36").
MAX_PERIODIC_COLUMNS = 256


def _held_out_log_proba(runs, n, n_classes):
    """Rows held out by the members and their averaged log-probabilities.

    Each run's ``_eval`` holds its held-out rows and their trained decision
    logits; a row held out by several members (``validation_fraction`` above
    ``1 / n_members``) averages their probabilities. Returns ``(rows, logp)``
    with ``logp`` of shape ``(n, n_classes)``, meaningful on ``rows``.
    """
    proba = np.zeros((n, n_classes))
    hits = np.zeros(n)
    for run in runs:
        rows, logits = run["_eval"]
        p = logits.copy()
        _softmax_(p)
        proba[rows] += p
        hits[rows] += 1
    rows = np.flatnonzero(hits)
    logp = np.zeros((n, n_classes))
    with np.errstate(divide="ignore"):
        logp[rows] = np.log(proba[rows] / hits[rows, None])
    return rows, logp


@dataclass
class _Run:
    """One network's run of a call, between :meth:`_TrainingMixin._prepare_run`
    and :meth:`_TrainingMixin._finish_run`: the net, its data and the keyword
    arguments of its epoch loop (:meth:`skscor._net._SkNet.epochs`)."""

    net: object
    data: _TensorData | _RowView
    valid: _TensorData | None
    loop: dict
    balance: object
    eval_rows: np.ndarray | None
    partial: bool
    budget: int | None
    epochs_before: int


class _TrainingMixin:
    """Build the skorch net, run one ``fit``/``partial_fit`` call, warn, report.

    Reads the estimator's parameters and the hooks of
    :class:`skscor._base._BaseNetClassifier` (``_make_loss``,
    ``_optimizer_spec``, ``_plan_options``, ``_class_weight_request``,
    ``_net_class``).
    """

    # Whether ensemble members may train in lockstep (skscor._lockstep) where
    # the fused step is exact; False trains them one after the other (the
    # benchmarks' reference for the lockstep's speed and quality).
    _lockstep = True

    # ------------------------------------------------------------ balance
    def _resolve_balance(self, request, y_enc, sw, partial):
        """Resolve this call's class weights, priors and offsets (once).

        ``request`` is ``_class_weight_request``'s ``(weight, final,
        deferred)``, asked once per call.
        """
        weight, final, deferred = request
        if partial:
            mass = self.class_counts_
        else:
            mass = np.bincount(y_enc, weights=sw, minlength=self.n_classes_).astype(
                float
            )
        return resolve_balance(
            mass,
            weight,
            final_weight=final,
            deferred=deferred,
            logit_adjustment=self.logit_adjustment,
            tau=self.tau,
        )

    # -------------------------------------------------------------- build
    def _architecture(self):
        """What a warm start cannot change: it shapes the network."""
        return (
            self.module,
            tuple(int(w) for w in self.hidden_layer_sizes),
            self.activation,
            self._head,
            type(self._make_loss(self.class_counts_)).__name__,
            # the input conditioning is fitted once: it fixes the input layer
            self.preprocessing,
            repr(self.categorical_features),
            self.numeric_embedding,
        )

    def _periodic(self):
        """Whether the default MLP embeds its float columns periodically.

        ``numeric_embedding_`` is the embedding this fit resolved
        (``'auto'`` chooses one on the first member's held-out rows).
        """
        chosen = self.__dict__.get("numeric_embedding_", self.numeric_embedding)
        return chosen == "periodic"

    def _n_continuous(self, X):
        """The float input columns that periodic embeddings would widen
        (all of them without input conditioning; 0/1 columns fold)."""
        pre = getattr(self, "preprocessor_", None)
        if pre is None:
            return X.shape[1]
        return len(pre.continuous_out_)

    def _binary_columns(self):
        """The 0/1 input columns, whose periodic embeddings the MLP folds.

        The conditioned float columns with two values (flags, one-hot and
        missing-indicator columns); none without input conditioning.
        """
        pre = getattr(self, "preprocessor_", None)
        if pre is None:
            return []
        return sorted(set(range(pre.n_dense_out_)) - set(pre.continuous_out_.tolist()))

    def _check_memory(self, n_features, batch_size, device):
        """Refuse a default network that cannot fit in memory, before allocating."""
        if self.module is not None:
            return
        # periodic embeddings: 8 more inputs of the first layer per column
        width_in = n_features * (9 if self._periodic() else 1)
        widths = [width_in, *(int(w) for w in self.hidden_layer_sizes)]
        widths.append(self.n_classes_)
        params = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=False))
        # Activations of a training batch (forward, mask, gradient) and of one
        # scoring batch.
        acts = 3 * batch_size * sum(widths[1:]) + _SCORE_ROWS * max(widths[1:])
        need = _BYTES_PER_PARAM * params + 4 * acts
        have = _available_memory(device)
        if have is not None and need > have:
            raise MemoryError(
                f"The network (hidden_layer_sizes={tuple(self.hidden_layer_sizes)} "
                f"on {n_features} features) needs about {need / 2**30:.1f} GiB to "
                f"train, more than the {have / 2**30:.1f} GiB available on "
                f"{device}; use smaller hidden layers or a smaller batch_size."
            )

    def _build_net(self, n_features, device, batch_size):
        self._check_memory(n_features, batch_size, device)
        if self.module is None:
            pre = getattr(self, "preprocessor_", None)
            module = MLP(
                n_features,
                self.n_classes_,
                hidden_layer_sizes=tuple(self.hidden_layer_sizes),
                activation=self.activation,
                dropout=self.dropout,
                head=self._head,
                # high-cardinality categorical columns: learned embeddings
                embeddings=() if pre is None else pre.embedding_cardinalities_,
                periodic=self._periodic(),
                binary_columns=self._binary_columns(),
            )
        else:
            module = self.module(n_features, self.n_classes_)
            if not isinstance(module, torch.nn.Module):
                raise TypeError(
                    "module must build a torch.nn.Module from (n_features, "
                    f"n_classes); it returned {type(module).__name__}."
                )
        optimizer, opt_kwargs = self._optimizer_spec()
        opt_kwargs = optimizer_kernels(opt_kwargs, device)
        net = self._net_class(
            module=module,
            criterion=ClassWeighted(
                self._make_loss(self.class_counts_), self.n_classes_
            ),
            optimizer=optimizer,
            lr=self.learning_rate_init,
            max_epochs=self.max_iter,
            batch_size=batch_size,
            train_split=None,
            device=device,
            verbose=0,
            **{f"optimizer__{k}": v for k, v in opt_kwargs.items()},
        )
        net.initialize()
        self._architecture_ = self._architecture()
        return net

    def _sync_net(self):
        """Bring a warm network up to date with the current parameters.

        The optimizer keeps its state (Adam's moments, SGD's momentum: a warm
        start continues where training stopped) and takes the current
        hyperparameters (``learning_rate_init``, ``weight_decay``,
        ``momentum``, rho); a different ``optimizer`` starts a new one. The
        loss is rebuilt from the current parameters (``alpha``,
        ``label_smoothing``, ``gamma``...) and keeps its learned state (MR2's
        moving averages, LDAM/VS's margins); the default MLP's dropout follows
        ``dropout``.
        """
        net = self.net_
        arch = self._architecture()
        before = getattr(self, "_architecture_", arch)
        if arch != before:
            names = (
                "module",
                "hidden_layer_sizes",
                "activation",
                "head",
                "loss",
                "preprocessing",
                "categorical_features",
                "numeric_embedding",
            )
            changed = [n for n, a, b in zip(names, arch, before, strict=True) if a != b]
            raise ValueError(
                f"A warm start (warm_start=True or partial_fit) keeps the network, "
                f"but {', '.join(changed)} changed since it was built; refit with "
                "warm_start=False."
            )
        crit = net.criterion_
        inner = self._make_loss(self.class_counts_).to(net.device)
        inner.load_state_dict(crit.inner.state_dict())
        crit.inner = inner
        if self.module is None:
            for layer in net.module_.modules():
                if isinstance(layer, torch.nn.Dropout):
                    layer.p = self.dropout
        cls, kwargs = self._optimizer_spec()
        kwargs = optimizer_kernels(kwargs, net.device)
        net.lr = self.learning_rate_init
        opt = net.optimizer_
        base = getattr(opt, "base_optimizer", None)
        if type(opt) is cls and (
            base is None or type(base) is kwargs.get("base_optimizer")
        ):
            for group in opt.param_groups:
                group.update(
                    {
                        k: v
                        for k, v in kwargs.items()
                        if k in group and k not in ("foreach", "fused")
                    }
                )
            return
        for key in [k for k in vars(net) if k.startswith("optimizer__")]:
            delattr(net, key)
        net.optimizer = cls
        for key, value in kwargs.items():
            setattr(net, f"optimizer__{key}", value)
        net.initialize_optimizer()

    def _check_module_output(self, X):
        with eval_mode(self.net_.module_), torch.no_grad():
            out = self.net_.module_(X[:2])
        if out.ndim != 2 or out.shape[1] != self.n_classes_:
            raise ValueError(
                f"module must return logits of shape (n_samples, {self.n_classes_}); "
                f"it returned shape {tuple(out.shape)}."
            )

    # ---------------------------------------------------------------- run
    def _train_members(self, X, y_enc, sample_weight, device, seed, first, partial):
        """Train the ``n_members`` networks of one call, one after the other.

        Member ``m`` draws its own seed (member 0 the call's, so that one
        member is exactly a single network) and, with early stopping, holds
        out its own validation split (:func:`skscor._encoding.member_splits`:
        disjoint stratified slices, the folds of a k-fold when
        ``validation_fraction = 1 / n_members``). A warm start or
        ``partial_fit`` continues each member on all rows. Warnings of the
        members are issued once each, after the last member.
        """
        k = int(self.n_members)
        if not first:
            members = list(self.__dict__.get("members_") or [self.net_])
            if len(members) != k:
                raise ValueError(
                    f"A warm start (warm_start=True or partial_fit) keeps the "
                    f"{len(members)} fitted member network(s), but n_members={k}; "
                    "refit with warm_start=False."
                )
        validate = self.early_stopping in (True, "refit") and not partial
        splits = (
            enc.member_splits(y_enc, self.validation_fraction, k, seed)
            if validate
            else [None] * k
        )
        refit = self.early_stopping == "refit" and first and not partial
        # 'auto' embedding: chosen on the first member's held-out rows when
        # there are some; otherwise (and with a custom module) none.
        choose = (
            first
            and self.numeric_embedding == "auto"
            and self.module is None
            and validate
            and not refit
            and self._n_continuous(X) <= MAX_PERIODIC_COLUMNS
        )
        if first:
            self.numeric_embedding_ = (
                None if self.numeric_embedding == "auto" else self.numeric_embedding
            )
            self.__dict__.pop("numeric_embedding_scores_", None)
        # The members after the first network of an 'auto' choice train in
        # lockstep (one fused step for all) where the fused step is exact.
        together = (
            list(range(int(choose), k))
            if first
            and validate
            and not refit
            and k - int(choose) > 1
            and self._lockstep_ok()
            else []
        )
        nets, runs, caught = [], [], []
        for m in range(k):
            if m in together:
                continue
            member_seed = _member_seed(seed, m)
            if not first:
                self.net_ = members[m]
            torch.manual_seed(member_seed)
            if self.verbose and k > 1:
                print(f"member {m + 1} of {k}")
            with warnings.catch_warnings(record=k > 1) as record:
                if k > 1:
                    warnings.simplefilter("always")
                if m == 0 and choose:
                    # its own record: the losing candidate's warnings go with it
                    caught.extend(
                        self._choose_embedding(
                            X, y_enc, sample_weight, device, member_seed, splits[0]
                        )
                    )
                elif refit:
                    self._train_refit(
                        X, y_enc, sample_weight, device, member_seed, splits[m]
                    )
                else:
                    self._train(
                        X,
                        y_enc,
                        sample_weight,
                        device,
                        member_seed,
                        first,
                        partial,
                        split=splits[m],
                    )
            caught.extend(record or ())
            self._keep_member(nets, runs)
            if self.stop_reason_ == "interrupted":
                together = []
                break
        if together:
            caught.extend(
                self._train_together(
                    X, y_enc, sample_weight, device, seed, together, splits, nets, runs
                )
            )
        del self._last_eval
        self.__dict__.pop("_selection_weight", None)
        self.members_ = nets
        # partial_fit trains on all rows and a refit's members end on them:
        # no held-out rows to choose offsets on (or to report), so none are
        # kept (earlier ones would describe networks that have moved on).
        held = (
            _held_out_log_proba(runs, len(y_enc), self.n_classes_)
            if validate and not refit
            else None
        )
        if held is not None and self.stop_reason_ != "interrupted":
            rows, logp = held
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                warn_if_collapsed(
                    self,
                    y_enc[rows],
                    logp[rows],
                    where=f"on the out-of-fold predictions of the {len(rows)} "
                    "rows held out for early stopping",
                )
            caught.extend(record)
        self.decision_offsets_ = np.zeros(self.n_classes_)
        if held is not None and self.decision_offsets == "auto":
            rows, logp = held
            self.decision_offsets_ = tune_offsets(
                logp[rows], y_enc[rows], self.n_classes_
            )
        if k > 1:
            self._combine_members(runs, X, y_enc, seed, held)
        else:
            rows, logits = runs[0]["_eval"]
            pred = np.argmax(self._output_logits(logits, self.class_prior_), axis=1)
            set_report_rows(self, y_enc[rows], pred, on=runs[0]["_on"])
        # after the ensemble's state: the default output answers for the
        # first member's prior (class_prior_)
        self.output_temperatures_ = self._fit_temperatures(runs, y_enc, held)
        seen = set()
        for w in caught:
            key = (w.category, str(w.message))
            if key not in seen:
                seen.add(key)
                warnings.warn(w.message, w.category, stacklevel=4)

    def _fit_temperatures(self, runs, y_enc, held):
        """``output_temperatures_``: one temperature per output of ``predict_proba``.

        Fitted whatever ``output_temperature`` says (it chooses at prediction
        time between these and a fixed value): for each output (the default,
        and ``output_prior`` 'balanced' and 'training') the temperature that
        minimises, on the members' held-out rows, the log-loss of that
        output's probabilities with each class weighted to the prior the
        output answers for (:meth:`_output_class_prior`). Without held-out
        rows (``early_stopping=False`` or 'refit', ``partial_fit``, an
        interrupted fit) there is nothing to fit on, and every temperature
        is 1 (earlier ones would describe networks that have moved on); so
        it is where a class has no held-out row, whose weight would be
        undefined.
        """
        temps = dict.fromkeys(_OUTPUTS, 1.0)
        if held is None or self.stop_reason_ == "interrupted":
            return temps
        rows, logp = held
        true = y_enc[rows]
        found = np.bincount(true, minlength=self.n_classes_)
        if np.any(found == 0):
            return temps
        for name in _OUTPUTS:
            target = None if name == "default" else name
            if target is None:
                z = self._output_logits(logp[rows], None, target=None)
            else:
                z = self._held_out_output(runs, len(y_enc), target)[rows]
            # rows of class c weighted so that the classes' mix is the prior
            # the output answers for
            weight = self._output_class_prior(target) / (found / len(true))
            temps[name] = fit_temperature(z, true, weight[true])
        return temps

    def _held_out_output(self, runs, n, target):
        """Out-of-fold log-probabilities of an ``output_prior`` output.

        Each member's held-out logits moved to ``target`` under its own kept
        prior, then averaged over the members that held a row out
        (:func:`_held_out_log_proba`); meaningful on the held-out rows.
        """
        shifted = [
            {"_eval": (r, self._output_logits(z, run["class_prior_"], target))}
            for run in runs
            for r, z in [run["_eval"]]
        ]
        return _held_out_log_proba(shifted, n, self.n_classes_)[1]

    def _keep_member(self, nets, runs):
        """Append the member just trained (``net_``) and its fitted state."""
        nets.append(self.net_)
        self.net_.kept_prior = self.class_prior_
        runs.append(self._fitted_snapshot())
        runs[-1]["_eval"], runs[-1]["_on"] = self._last_eval

    def _lockstep_ok(self):
        """Whether members can train in lockstep (:mod:`skscor._lockstep`):
        the default MLP, skscor's own step (one pass, or SAM's two) and a
        criterion without parameters."""
        if not self._lockstep or self.module is not None:
            return False
        if self._net_class not in (_SkNet, _SAMNet):
            return False
        loss = self._make_loss(self.class_counts_)
        return not any(True for _ in loss.parameters())

    def _train_together(
        self, X, y_enc, sample_weight, device, seed, members, splits, nets, runs
    ):
        """Train ``members`` in lockstep; keep each in turn. Returns warnings."""
        if self.verbose:
            print(
                f"members {members[0] + 1}-{members[-1] + 1} of {self.n_members}, "
                "trained together"
            )
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            prepared, shared = [], {}
            for m in members:
                member_seed = _member_seed(seed, m)
                # the member's initial weights: as when trained alone
                torch.manual_seed(member_seed)
                run = self._prepare_run(
                    X,
                    y_enc,
                    sample_weight,
                    device,
                    member_seed,
                    True,
                    False,
                    splits[m],
                    None,
                    shared,
                )
                prepared.append((member_seed, run))
            with self._threads():
                results = run_lockstep([run for _, run in prepared])
                for (member_seed, run), (done, interrupted) in zip(
                    prepared, results, strict=True
                ):
                    self.net_ = run.net
                    self._finish_run(run, X, y_enc, member_seed, done, interrupted)
                    self._keep_member(nets, runs)
        return record

    def _fitted_snapshot(self):
        """The fitted attributes one ``_train`` run left (names ending in _)."""
        return {a: v for a, v in vars(self).items() if a.endswith("_")}

    def _choose_embedding(self, X, y_enc, sample_weight, device, seed, split):
        """``numeric_embedding='auto'``: train the first member both ways.

        Both candidates (no embedding, then periodic) start from ``seed`` on
        the same ``split`` and keep their best epoch as usual. They are then
        compared on the held-out rows by the class-balanced log-loss of their
        kept networks, row by row (:func:`_paired_gain`): the periodic
        embeddings stay only when they lower it by more than one standard
        error of the paired difference (the one-standard-error rule: the
        simpler network wins unless the evidence is clear, which a few rows
        of a rare class cannot give). The other members are built the same
        way. A candidate whose training diverges loses (the fit raises only
        when both diverge). Returns the kept candidate's warnings (the
        other's are dropped with it).
        """
        results, diverged = {}, None
        for embedding in (None, "periodic"):
            self.numeric_embedding_ = embedding
            torch.manual_seed(seed)
            try:
                with warnings.catch_warnings(record=True) as record:
                    warnings.simplefilter("always")
                    self._train(
                        X, y_enc, sample_weight, device, seed, True, False, split=split
                    )
            except DivergenceError as err:
                diverged = diverged or err
                continue
            snapshot = self._fitted_snapshot()
            results[embedding] = (snapshot, self._last_eval, list(record))
            if self.stop_reason_ == "interrupted":
                break
        if not results:
            raise diverged
        scores = {"none": float("inf"), "periodic": float("inf"), "se": float("nan")}
        if len(results) == 2:
            (rows, plain), (_, periodic) = (
                results[None][1][0],
                results["periodic"][1][0],
            )
            loss_none, loss_periodic, se = _paired_gain(
                y_enc[rows], plain, periodic, self.n_classes_, self._selection_weight
            )
            scores = {"none": loss_none, "periodic": loss_periodic, "se": se}
            chosen = "periodic" if loss_periodic < loss_none - se else None
        else:
            chosen = next(iter(results))
            rows, logits = results[chosen][1][0]
            scores["none" if chosen is None else "periodic"] = _paired_gain(
                y_enc[rows], logits, logits, self.n_classes_, self._selection_weight
            )[0]
        state, last_eval, record = results[chosen]
        self.__dict__.update(state)
        self._last_eval = last_eval
        self.numeric_embedding_ = chosen
        self.numeric_embedding_scores_ = scores
        return record

    def _combine_members(self, runs, X, y_enc, seed, held):
        """The fitted state of an ensemble from its members' runs.

        ``held``: the members' held-out rows and averaged log-probabilities
        (:func:`_held_out_log_proba`), or None without held-out rows.
        """
        first = runs[0]
        for attr in ("loss_curve_", "best_loss_", "validation_scores_"):
            if attr in first:  # partial_fit keeps its earlier validation scores
                setattr(self, attr, first[attr])
        self.net_ = self.members_[0]
        self.switch_epoch_ = first["switch_epoch_"]
        self.class_prior_ = first["class_prior_"]
        self.n_iter_ = max(run["n_iter_"] for run in runs)
        reasons = [run["stop_reason_"] for run in runs]
        for reason in ("interrupted", "max_iter", "refit"):
            if reason in reasons:
                self.stop_reason_ = reason
                break
        else:
            self.stop_reason_ = reasons[0]
        if held is not None:
            # Out-of-fold decisions: each held-out row predicted by the
            # members that did not train on it (probabilities averaged).
            # The members' own selection score: their averaged trained
            # decisions, before output_prior or decision offsets.
            rows, plain = held
            true = y_enc[rows]
            plain_pred = np.argmax(plain[rows], axis=1)
            recalls = [np.mean(plain_pred[true == j] == j) for j in np.unique(true)]
            self.best_validation_score_ = float(np.mean(recalls))
            # The report: the decisions predict makes. The offsets move the
            # averaged decision; output_prior (which excludes them) moves each
            # member under its own kept prior before the average.
            if getattr(self, "output_prior", None) is None:
                report = self._output_logits(plain[rows], None)
            else:
                report = self._held_out_output(runs, len(y_enc), self.output_prior)
                report = report[rows]
            pred = np.argmax(report, axis=1)
            on = (
                f"out-of-fold predictions of the {len(rows)} rows held out by the "
                f"{len(runs)} members' early-stopping validation splits"
            )
        else:
            rows = self._report_sample(len(y_enc), seed)
            pred = np.argmax(self._forward(X[rows]), axis=1)
            true = y_enc[rows]
            # early_stopping='refit': the first member's selection run
            if "best_validation_score_" in first:
                self.best_validation_score_ = first["best_validation_score_"]
            on = (
                f"{len(rows)} of the {len(y_enc)} training rows of the last call "
                "(training rows: use skscor.metrics.class_disparity on held-out "
                "data for an estimate of generalization)"
            )
        set_report_rows(self, true, pred, on=on)

    def _train_refit(self, X, y_enc, sample_weight, device, seed, split):
        """``early_stopping='refit'``: choose the epoch count, then use every row.

        A selection run holds out ``split`` and stops on the class-balanced
        validation loss (as ``early_stopping=True``); a second run from the
        same initial weights then trains on all rows for the epoch count of
        the best validation epoch, so no row is lost to the selection.
        """
        self._train(X, y_enc, sample_weight, device, seed, True, False, split=split)
        losses = [row["valid_criterion"] for row in self.net_.history]
        best = int(np.argmin(losses)) + 1
        scores = (self.validation_scores_, self.best_validation_score_)
        del self.net_
        torch.manual_seed(seed)
        self._train(X, y_enc, sample_weight, device, seed, True, False, budget=best)
        self.validation_scores_, self.best_validation_score_ = scores
        self.stop_reason_ = "refit"

    def _train(
        self,
        X,
        y_enc,
        sample_weight,
        device,
        seed,
        first,
        partial,
        *,
        split=None,
        budget=None,
    ):
        """One network's run: build or sync it, train it, set its fitted state.

        ``split``: this member's (train, validation) rows for early stopping;
        ``budget``: the refit of ``early_stopping='refit'``, a fixed number of
        epochs on every row (no stopping rule).
        """
        run = self._prepare_run(
            X, y_enc, sample_weight, device, seed, first, partial, split, budget
        )
        with self._threads():
            done, interrupted = run.net.run(run.data, run.valid, **run.loop)
            self._finish_run(run, X, y_enc, seed, done, interrupted)

    def _prepare_run(
        self,
        X,
        y_enc,
        sample_weight,
        device,
        seed,
        first,
        partial,
        split,
        budget,
        shared=None,
    ):
        """Everything of one network's run before its epochs (a :class:`_Run`).

        Sets ``net_`` (built on the first call, synced on a warm one) and
        ``class_weight_``. ``shared``: a dict the members trained together
        share their data through (None: the run's own copy).
        """
        request = self._class_weight_request(self.class_counts_)
        sw = enc.sample_weights(
            X, y_enc, sample_weight, request[0], self.classes_, partial=partial
        )
        balance = self._resolve_balance(request, y_enc, sw, partial)
        self.class_weight_ = balance.final.weight
        batch_size = enc.resolve_batch_size(self.batch_size, X.shape[0])
        if first:
            self.net_ = self._build_net(X.shape[1], device, batch_size)
        else:
            self._sync_net()
        net = self.net_
        data = None if shared is None else shared.get("data")
        if data is None:
            Xt = torch.tensor(X, dtype=torch.float32, device=device)
            yt = torch.as_tensor(y_enc, dtype=torch.int64, device=device)
            wt = (
                None
                if sw is None
                else torch.as_tensor(sw, dtype=torch.float32, device=device)
            )
            data = _TensorData(Xt, yt, wt)
            if shared is not None:
                shared["data"] = data
        valid = None
        use_validation = split is not None
        eval_rows = None
        if use_validation:
            train_idx, valid_idx = split
            valid = data.subset(valid_idx)
            # Members trained together share one copy of the rows and gather
            # their batches from it; one trained alone copies its rows once.
            data = (
                _RowView(data, train_idx)
                if shared is not None
                else data.subset(train_idx)
            )
            # the rows it did not train on: a class too small to hold out is
            # scored in-sample by the stopping rule, and left out here
            eval_rows = np.setdiff1d(valid_idx, train_idx, assume_unique=True)
        if first:
            self._check_module_output(data.take(slice(0, 2))[0])
        net.batch_size = batch_size
        epochs = 1 if partial else (budget or self.max_iter)
        plan = TrainingPlan(
            max_iter=budget or self.max_iter,
            lr=self.learning_rate_init,
            learning_rate=self.learning_rate,
            warmup_epochs=self.warmup_epochs,
            convergence=not partial,
            **self._plan_options(),
        )
        stopper = (
            None
            if partial or budget is not None
            else _Stopper(self.tol, self.n_iter_no_change, use_validation)
        )
        posthoc = self.logit_adjustment == "post-hoc" and self.tau > 0
        hooks = [
            OptimizerValues(),
            ClassBalance(balance, self.tau if posthoc else None),
        ]
        if self.verbose:
            hooks.append(Progress(self.max_iter, self.n_iter_no_change))
        selection_weight = _selection_weight(balance)
        # numeric_embedding='auto' weighs the classes as the selection does
        self._selection_weight = selection_weight
        loop = {
            "epochs": epochs,
            "rng": torch.Generator(device=device).manual_seed(seed),
            "shuffle": self.shuffle,
            "plan": plan,
            "stopper": stopper,
            "hooks": hooks,
            "select": (
                None if valid is None else self._selection_score(y_enc[valid_idx])
            ),
            "valid_weight": selection_weight,
        }
        return _Run(
            net=net,
            data=data,
            valid=valid,
            loop=loop,
            balance=balance,
            eval_rows=eval_rows,
            partial=partial,
            budget=budget,
            epochs_before=len(net.history),
        )

    def _finish_run(self, run, X, y_enc, seed, done, interrupted):
        """Everything of one network's run after its epochs: the kept epoch,
        its phase, the fitted state and the warnings (``net_`` is the run's)."""
        net, plan, stopper = run.net, run.loop["plan"], run.loop["stopper"]
        use_validation = run.valid is not None
        kept = len(net.history) - 1
        if stopper is not None and stopper.best_state is not None:
            kept = stopper.best_epoch
            stopper.restore_best(net)
        # The kept epoch's phase decides the prior its decisions correct
        # for (early stopping may keep an epoch before the DRW switch).
        kept_final = bool(kept >= 0 and net.history[kept].get("drw", False))
        phase = run.balance.phase(kept_final)
        self.class_prior_ = phase.prior
        net.criterion_.set_class_weight(phase.weight if phase.weighted else None)
        net.criterion_.set_logit_offset(phase.offset)
        eval_rows = run.eval_rows
        if eval_rows is None:
            eval_rows = self._report_sample(len(y_enc), seed)
        logits = self._check_finite(X[eval_rows])
        on = (
            f"the {len(eval_rows)} rows of the early-stopping validation split"
            if use_validation
            else f"{len(eval_rows)} of the {len(y_enc)} training rows of the "
            "last call (training rows: use skscor.metrics.class_disparity "
            "on held-out data for an estimate of generalization)"
        )
        self._last_eval = ((eval_rows, logits), on)
        set_fitted_state(
            self,
            net,
            use_validation=use_validation,
            partial=run.partial,
            since=run.epochs_before,
        )
        epochs = run.loop["epochs"]
        self.switch_epoch_ = self._switch_epoch(
            plan, done, run.epochs_before, run.partial
        )
        self.stop_reason_ = self._stop_reason(plan, done, epochs, interrupted)
        if run.budget is not None and not interrupted:
            # The refit's budget was chosen on held-out rows: reaching it is
            # the point, not a failure to converge.
            warn_if_collapsed(self, y_enc[eval_rows], logits)
            return
        self._warn_after_fit(
            plan,
            done,
            epochs,
            interrupted,
            run.partial,
            y_enc,
            eval_rows,
            logits,
            run.epochs_before,
            held_out=use_validation,
        )

    def _selection_score(self, y_valid):
        """``scoring`` as a function of the validation logits (None: the
        class-balanced validation loss chooses)."""
        if self.scoring is None:
            return None
        scorer = check_scoring(self, scoring=self.scoring)
        labels = self.classes_[y_valid]
        rows = np.arange(len(y_valid)).reshape(-1, 1)

        def score(logits):
            held = _HeldOutPredictions(self.classes_, logits.double().cpu().numpy())
            return scorer(held, rows, labels)

        return score

    def _switch_epoch(self, plan, done, epochs_before, partial):
        """History index of the first final-phase epoch (None: not reached)."""
        if partial:
            # partial_fit's phases follow the total epoch count: the switch
            # may have come in any earlier call.
            for i, row in enumerate(self.net_.history):
                if row.get("drw") or (
                    plan.has_phases and plan.schedule_time(i) >= plan.switch_time
                ):
                    return i
            return None
        if plan.switch_epoch is None or plan.switch_epoch >= done:
            return None
        return epochs_before + plan.switch_epoch

    def _report_sample(self, n, seed):
        if n <= REPORT_ROWS:
            return np.arange(n)
        return np.sort(
            np.random.default_rng(seed).choice(n, REPORT_ROWS, replace=False)
        )

    @staticmethod
    def _stop_reason(plan, done, epochs, interrupted):
        if interrupted:
            return "interrupted"
        if plan.stop_reason is not None:
            return plan.stop_reason
        return "max_iter" if done == epochs else "interrupted"

    def _warn_after_fit(
        self,
        plan,
        done,
        epochs,
        interrupted,
        partial,
        y_enc,
        rows,
        logits,
        since,
        held_out=False,
    ):
        name = type(self).__name__
        if interrupted:
            warnings.warn(
                f"Training was interrupted (KeyboardInterrupt) after {done} of "
                f"{epochs} epochs; the estimator keeps the weights of the last "
                "completed batch.",
                RuntimeWarning,
                stacklevel=6,
            )
            return
        if partial:
            # A schedule that ran out: cosine reaches a learning rate of 0 at
            # max_iter, so later partial_fit calls would not train at all.
            lrs = [row["lr"] for row in self.net_.history[since:]]
            if lrs and min(lrs) == 0.0:
                warnings.warn(
                    f"{name}: learning_rate={self.learning_rate!r} reached a "
                    f"learning rate of 0 at max_iter={self.max_iter} epochs, so "
                    "this partial_fit call left the weights unchanged; raise "
                    "max_iter or use learning_rate='constant' for open-ended "
                    "streams.",
                    ConvergenceWarning,
                    stacklevel=6,
                )
            return
        phase = plan.phase_warning(done)
        if phase is not None:
            warnings.warn(f"{name}: {phase}", ConvergenceWarning, stacklevel=6)
        elif self.stop_reason_ == "max_iter":
            warnings.warn(
                f"{name}: maximum iterations ({epochs}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=6,
            )
        if not held_out:
            # Held-out rows are checked once, on the ensemble's out-of-fold
            # decisions (_train_members): one member missing the two or three
            # rows of a rare class its split holds is no collapse.
            warn_if_collapsed(self, y_enc[rows], logits)


class _HeldOutPredictions(ClassifierMixin, BaseEstimator):
    """The decisions of one epoch on the validation rows, as a fitted classifier.

    A scikit-learn scorer calls ``predict``, ``predict_proba`` or
    ``decision_function`` of an estimator on ``X``; here ``X`` holds the row
    indices of the validation split, so any scorer (or a callable with the
    scorer signature) judges the epoch's decisions.
    """

    def __init__(self, classes, logits):
        self.classes = classes
        self.logits = logits

    def __sklearn_is_fitted__(self):
        return True

    @property
    def classes_(self):
        return self.classes

    def _rows(self, X):
        return self.logits[np.asarray(X, dtype=np.int64).ravel()]

    def decision_function(self, X):
        z = self._rows(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X):
        z = self._rows(X)  # a copy (fancy indexing): softmax in place
        _softmax_(z)
        return z

    def predict(self, X):
        return self.classes[np.argmax(self._rows(X), axis=1)]


def _row_log_loss(y, logits):
    """Per-row cross-entropy of decision logits (float64)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return log_norm - z[np.arange(len(y)), y]


def _paired_gain(y, logits_a, logits_b, n_classes, class_weight=None):
    """Class-weighted held-out log-losses of two networks on the same rows, and
    the standard error of their difference.

    Each loss is the mean over the classes present of their rows' mean
    log-loss, weighted by ``class_weight`` (None: equally, the balanced
    log-loss; the weights the epoch selection uses). With ``v_k`` the weights
    of the ``K`` classes present, normalised to sum to one, the difference
    ``b - a`` is ``sum_k v_k mean_k(d)`` over the paired row differences
    ``d_i``, with standard error ``sqrt(sum_k v_k^2 var_k(d) / n_k)``. A class
    with a single row has no variance estimate: the error is then infinite
    (no evidence either way). Returns ``(loss_a, loss_b, se)``.
    """
    la, lb = _row_log_loss(y, logits_a), _row_log_loss(y, logits_b)
    d = lb - la
    present = [k for k in range(n_classes) if np.any(y == k)]
    v = np.ones(len(present))
    if class_weight is not None:
        v = np.asarray(class_weight, dtype=np.float64)[present]
    v = v / v.sum()
    var = 0.0
    for vk, k in zip(v, present, strict=True):
        dk = d[y == k]
        if dk.size < 2:
            var = float("inf")
            break
        var += vk**2 * dk.var(ddof=1) / dk.size
    loss_a = float(
        sum(vk * la[y == k].mean() for vk, k in zip(v, present, strict=True))
    )
    loss_b = float(
        sum(vk * lb[y == k].mean() for vk, k in zip(v, present, strict=True))
    )
    return loss_a, loss_b, float(np.sqrt(var))


def _selection_weight(balance):
    """Per-class weights of the validation loss that chooses the kept epoch.

    Without class weights, None: every class counts the same (the balanced
    log-loss, made for imbalance). With class weights (the final phase's,
    for DRW), each class as much as it weighs in the training loss, its
    weight times its mass: equal for 'balanced', and a user's
    ``class_weight={0: 1000, 1: 1}`` is honoured by the selection too.
    """
    final = balance.final
    if not final.weighted:
        return None
    # The prior the loss trains under is class mass times weight, normalized.
    return final.prior


def _member_seed(seed, m):
    """The seed of ensemble member ``m``: the call's for member 0 (so that one
    member is exactly a single network), derived from it for the others."""
    if m == 0:
        return seed
    return int(np.random.SeedSequence([seed, m]).generate_state(1)[0])


def _available_memory(device):
    """Bytes free on ``device`` (None when unknown)."""
    if str(device).startswith("cuda"):
        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return free
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
