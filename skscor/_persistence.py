"""Weights-only persistence: ``save_weights`` / ``load_weights``.

A weights file holds only tensors, numbers, strings and lists, read back with
``torch.load(weights_only=True)``: loading one cannot execute code, unlike
unpickling a fitted estimator.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._balance import resolve_balance
from ._decision import OUTPUTS as _OUTPUTS
from ._encoding import resolve_batch_size, resolve_device
from ._preprocessing import TabularEncoder
from ._reports import set_fitted_state, set_report_rows

WEIGHTS_FORMAT = "skscor-weights-1"


def _cpu_state(module):
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}


def save_weights(est, f):
    check_is_fitted(est)
    net = est.net_
    payload = {
        "format": WEIGHTS_FORMAT,
        "estimator": type(est).__name__,
        "classes": est.classes_.tolist(),
        "n_features_in": int(est.n_features_in_),
        "feature_names_in": (
            est.feature_names_in_.tolist()
            if hasattr(est, "feature_names_in_")
            else None
        ),
        "class_counts": [float(c) for c in est.class_counts_],
        "module": _cpu_state(net.module_),
        "criterion": _cpu_state(net.criterion_),
        # An ensemble's other members (the first is "module"/"criterion"),
        # each with the prior of the phase its kept epoch trained under.
        "members": [
            {
                "module": _cpu_state(m.module_),
                "criterion": _cpu_state(m.criterion_),
                "class_prior": [float(p) for p in m.kept_prior],
            }
            for m in est.__dict__.get("members_", [net])[1:]
        ],
        "loss_curve": list(est.loss_curve_),
        "class_weight": [float(w) for w in est.class_weight_],
        "class_prior": [float(p) for p in est.class_prior_],
        "decision_offsets": [float(b) for b in est.decision_offsets_],
        "output_temperatures": {
            k: float(v) for k, v in est.__dict__.get("output_temperatures_", {}).items()
        },
        # The embedding the networks were built with ('auto' chose it).
        "numeric_embedding": est.__dict__.get(
            "numeric_embedding_", est.numeric_embedding
        ),
        # The input conditioning travels with the weights (plain data only).
        "preprocessor": (
            None if est.preprocessor_ is None else est.preprocessor_.get_state()
        ),
    }
    rows = est.__dict__.get("_report_rows")
    if rows is not None:
        payload["report_rows"] = [rows[0].tolist(), rows[1].tolist(), rows[2]]
    torch.save(payload, f)


def _read(est, f):
    try:
        payload = torch.load(f, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(
            "Could not read a skscor weights file: it is not one, or it holds "
            "objects other than tensors and plain data, which are refused "
            f"(torch.load with weights_only=True): {err}"
        ) from err
    if not isinstance(payload, dict) or payload.get("format") != WEIGHTS_FORMAT:
        raise ValueError("Not a skscor weights file (missing format marker).")
    if payload.get("estimator") != type(est).__name__:
        raise ValueError(
            f"The weights were saved from a {payload.get('estimator')}; load "
            f"them into that estimator, not a {type(est).__name__}."
        )
    return payload


def load_weights(est, f):
    est._validate_params()
    payload = _read(est, f)
    # A file that does not load leaves the estimator as it was: fitted state is
    # set below before the network is built, and a mismatch used to delete a
    # previous fit, or (other errors) leave it half-replaced.
    before = dict(vars(est))
    try:
        est.classes_ = np.asarray(payload["classes"])
        est.n_classes_ = len(est.classes_)
        est.n_features_in_ = payload["n_features_in"]
        est.__dict__.pop("feature_names_in_", None)
        if payload["feature_names_in"] is not None:
            est.feature_names_in_ = np.asarray(
                payload["feature_names_in"], dtype=object
            )
        counts = np.asarray(payload["class_counts"])
        est.class_counts_ = counts
        est.weight_decay_ = est._weight_decay()
        state = payload.get("preprocessor")
        est.preprocessor_ = None if state is None else TabularEncoder.from_state(state)
        width = (
            est.n_features_in_
            if est.preprocessor_ is None
            else est.preprocessor_.n_dense_out_
            + len(est.preprocessor_.embedding_cardinalities_)
        )
        # Files written before 'auto' existed: the parameter built them.
        est.numeric_embedding_ = payload.get(
            "numeric_embedding",
            None if est.numeric_embedding == "auto" else est.numeric_embedding,
        )
        if est.numeric_embedding not in ("auto", est.numeric_embedding_):
            raise ValueError(
                f"The weights were saved from networks with numeric_embedding="
                f"{est.numeric_embedding_!r}; construct the estimator with that "
                "value (or 'auto') to load them."
            )
        device = resolve_device(est.device)
        batch_size = resolve_batch_size(est.batch_size, int(counts.sum()))
        saved = [
            {"module": payload["module"], "criterion": payload["criterion"]},
            *payload.get("members", []),
        ]
        if len(saved) != est.n_members:
            raise ValueError(
                f"The file holds an ensemble of {len(saved)} member network(s); "
                f"load it into an estimator with n_members={len(saved)}, not "
                f"{est.n_members}."
            )
        try:
            nets = []
            for member in saved:
                net = est._build_net(width, device, batch_size)
                net.module_.load_state_dict(member["module"])
                state = dict(member["criterion"])
                if "inner.weight" not in net.criterion_.state_dict():
                    # Files of 0.2 held LDAM/VS's own per-class weight (all
                    # ones in an estimator): the weights now live in
                    # ClassWeighted only.
                    state.pop("inner.weight", None)
                net.criterion_.load_state_dict(state)
                if "class_prior" in member:
                    net.kept_prior = np.asarray(member["class_prior"])
                nets.append(net)
            net = nets[0]
        except (RuntimeError, KeyError) as err:
            raise ValueError(
                "The saved weights do not match this estimator's network; "
                "construct it with the hyperparameters it was trained with. "
                f"({err})"
            ) from err
        # Files written before 0.3 lack the resolved balance: the criterion's
        # weights are those the network ended with.
        crit = net.criterion_
        est.class_weight_ = np.asarray(
            payload.get("class_weight", crit.class_weight.double().cpu().tolist())
        )
        if "class_prior" in payload:
            est.class_prior_ = np.asarray(payload["class_prior"])
        else:
            est.class_prior_ = resolve_balance(counts, est.class_weight_).main.prior
        net.kept_prior = est.class_prior_
        # Files written before the offsets existed decided by the plain argmax.
        est.decision_offsets_ = np.asarray(
            payload.get("decision_offsets", np.zeros(len(est.classes_))),
            dtype=np.float64,
        )
        # Files written before the temperatures existed: probabilities as
        # the networks give them.
        est.output_temperatures_ = {
            k: float(v)
            for k, v in payload.get(
                "output_temperatures", dict.fromkeys(_OUTPUTS, 1.0)
            ).items()
        }
        rows = payload.get("report_rows")
        loss_curve = [float(v) for v in payload["loss_curve"]]
    except BaseException as err:
        est.__dict__.clear()
        est.__dict__.update(before)
        if isinstance(err, KeyError):
            raise ValueError(
                f"Not a complete skscor weights file (missing {err})."
            ) from err
        raise
    # Replay the loss curve into the history: further training (partial_fit,
    # warm_start) then extends n_iter_ and loss_curve_ instead of restarting.
    for epoch, loss in enumerate(loss_curve, start=1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("train_loss", loss)
    est.net_ = net
    est.members_ = nets
    set_fitted_state(est, net, use_validation=False, partial=False)
    if rows is None:
        est._report_rows, est._report_cache = None, {}
    else:
        set_report_rows(est, rows[0], rows[1], rows[2])
    return est
