"""Prediction: the decision logits and the public methods built on them."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from ._balance import resolve_balance
from ._docs import fill_doc
from .exceptions import DivergenceError
from .utils._torch import eval_mode

# Rows per forward pass at prediction time: bounds memory on large inputs.
_PREDICT_BATCH = 8192


class _PredictMixin:
    """``decision_function``, ``predict_proba``, ``predict_log_proba``, ``predict``.

    Every method reads the decision logits of :meth:`_forward`: the network's
    outputs, through the loss's ``decision_logits`` (LDAM's scale), minus
    ``tau * log(prior)`` with ``logit_adjustment='post-hoc'``; ``predict`` is
    the argmax of ``predict_proba`` by construction.
    """

    @fill_doc
    def decision_function(self, X):
        """Decision scores: the logits of the decision rule.

        %(predict_X)s

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, ``z_1 - z_0`` (the score of ``classes_[1]``, as in
            scikit-learn); otherwise the logits, float64. With
            ``logit_adjustment='post-hoc'`` they are adjusted; like
            :meth:`predict_proba` they include the decision offsets and are
            divided by the output's temperature (``output_temperatures_``),
            which moves no decision.
        """
        z = self._logits(X)
        if z.shape[1] == 2:
            return z[:, 1] - z[:, 0]
        return z

    @fill_doc
    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        %(predict_X)s

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes), float64
        """
        return self._logits(X, finish=_log_softmax_)

    @fill_doc
    def predict_proba(self, X):
        """Class probabilities: the softmax of the decision logits.

        With ``logit_adjustment='post-hoc'`` these are the probabilities
        under a uniform class prior (the training prior divided out, to the
        power ``tau``), so that :meth:`predict` stays their argmax. The final
        logits are divided by the output's temperature
        (``output_temperature``), fitted on the held-out rows by default.

        %(predict_X)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            Rows sum to one; columns follow ``classes_``.

        Raises
        ------
        ValueError
            If ``X`` is invalid, or the logits of some row are not finite
            (inputs far outside the training range overflow float32).
        """
        return self._logits(X, finish=_softmax_)

    @fill_doc
    def predict(self, X):
        """Predicted labels (from ``classes_``): the argmax of ``predict_proba``.

        %(predict_X)s

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]

    _UNSET = object()

    def _decision_offsets(self, target=_UNSET):
        """The offsets added to the averaged decision logits, or None.

        ``decision_offsets_`` (chosen at fit, see ``decision_offsets``) under
        the default output only: ``output_prior`` (or ``target``) asks for
        probabilities under a stated prior, which the offsets would move away
        from.
        """
        if target is self._UNSET:
            target = getattr(self, "output_prior", None)
        if target is not None:
            return None
        offsets = self.__dict__.get("decision_offsets_")
        if offsets is None or not np.any(offsets):
            return None
        return offsets

    def _output_logits(self, logits, prior, target=_UNSET):
        """The logits ``predict`` decides on, from trained decision logits.

        With ``output_prior`` (or ``target``, one of its values): one
        network's move to it under its kept ``prior``; otherwise the decision
        offsets (meant for the averaged output of an ensemble). The two never
        apply together. ``_forward(output=False)`` gives the trained logits.
        The output's temperature does not enter: it moves no decision.
        """
        z = np.asarray(logits, dtype=np.float64)
        if target is self._UNSET:
            target = getattr(self, "output_prior", None)
        if target is not None:
            trained = self._posthoc_shift(prior, None)
            return z + (
                self._posthoc_shift(prior, target)
                - (0.0 if trained is None else trained)
            )
        offsets = self._decision_offsets(None)
        return z if offsets is None else z + offsets

    def _output_class_prior(self, target):
        """The class prior an output's probabilities answer for.

        ``target`` is an ``output_prior`` value: 'balanced' uniform,
        'training' the training frequencies; None the default output's,
        ``pi_out`` of :meth:`_posthoc_shift` (the trained prior, tempered by
        a logit adjustment).
        """
        k = self.n_classes_
        if target == "balanced":
            return np.full(k, 1.0 / k)
        if target == "training":
            return resolve_balance(self.class_counts_, None).main.prior
        prior = np.asarray(self.class_prior_, dtype=np.float64)
        if self.logit_adjustment is not None and self.tau > 0:
            prior = prior ** (1.0 - self.tau)
        return prior / prior.sum()

    def _output_temperature(self):
        """The temperature of the current output (see ``output_temperature``).

        A prediction-time choice, as ``output_prior``: a number is used as it
        is; 'auto' reads the output's fitted ``output_temperatures_``.
        """
        fixed = getattr(self, "output_temperature", "auto")
        if not (isinstance(fixed, str) and fixed == "auto"):
            # set_params after fit bypasses fit's validation
            if (
                isinstance(fixed, bool)
                or not isinstance(fixed, numbers.Real)
                or not (math.isfinite(fixed) and fixed > 0)
            ):
                raise ValueError(
                    "The 'output_temperature' parameter must be 'auto' or a "
                    f"finite float > 0; got {fixed!r}."
                )
            return float(fixed)
        temps = self.__dict__.get("output_temperatures_")
        if not temps:
            return 1.0
        return temps[getattr(self, "output_prior", None) or "default"]

    def _posthoc_shift(self, prior=None, target=_UNSET):
        """The shift added to the network's decision logits, or None.

        ``prior`` (default ``class_prior_``) is the prior the kept network
        trained under (class frequencies times the class weights of its
        phase); each member of an ensemble keeps its own. The post-hoc logit
        adjustment subtracts ``tau * log(prior)`` (so DRW's final phase,
        whose weighted prior is about uniform, is not corrected twice).
        ``output_prior`` then moves the probabilities from the prior they
        are under, ``pi_out``, to a uniform one ('balanced') or to the
        training frequencies ('training'). Both forms of logit adjustment
        leave ``pi_out = prior ** (1 - tau)`` (normalized); without them
        ``pi_out = prior``.
        """
        prior = self.class_prior_ if prior is None else prior
        adjusted = self.logit_adjustment is not None and self.tau > 0
        shift = None
        if self.logit_adjustment == "post-hoc" and adjusted:
            shift = -self.tau * np.log(prior)
        if target is self._UNSET:
            target = getattr(self, "output_prior", None)
        if target is None:
            return shift
        out = np.log(prior) * ((1.0 - self.tau) if adjusted else 1.0)
        shift = (0.0 if shift is None else shift) - out
        if target == "training":
            shift = shift + np.log(resolve_balance(self.class_counts_, None).main.prior)
        return shift

    def _check_finite(self, X):
        """Raise DivergenceError unless the trained state and its logits are finite.

        The per-epoch loss check cannot see weights so large that the logits
        overflow float32 while the loss stayed finite. Returns the trained
        decision logits of X (``_forward(output=False)``).
        """
        net = self.net_
        for name, state in (
            ("weights", net.module_.state_dict()),
            ("loss state", net.criterion_.state_dict()),
        ):
            for key, value in state.items():
                if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                    raise DivergenceError(
                        f"Training diverged: the network's {name} ({key}) are not "
                        "finite after the last step. Lower learning_rate_init; "
                        "with preprocessing=None, scale the features (the "
                        "default preprocessing='robust' does)."
                    )
        # This network alone: an ensemble's members are checked one by one.
        logits = self._forward(X, nets=[net], output=False)
        if not np.isfinite(logits).all():
            raise DivergenceError(
                "Training diverged: the trained network's outputs (logits) on the "
                "training data are not finite. Lower learning_rate_init; with "
                "preprocessing=None, scale the features (the default "
                "preprocessing='robust' does)."
            )
        return logits

    def _logits(self, X, finish=None) -> np.ndarray:
        """Validated decision logits of ``X``, ``finish``-ed in place per batch."""
        X = self._network_input(X)
        with self._threads():
            return self._forward(X, finish=finish, check=True)

    def _forward(
        self, X: np.ndarray, *, finish=None, check=False, nets=None, output=True
    ) -> np.ndarray:
        """Decision logits of validated rows, in bounded-memory batches, float64.

        With several members (``members_``, or ``nets``) the logits are the
        log of the members' averaged probabilities, ``log mean_m softmax(z_m)``:
        their softmax is the averaged probabilities, so ``predict`` stays the
        argmax of ``predict_proba``. ``finish(block)`` transforms each batch's
        rows of the output in place (the softmax of predict_proba): no
        temporary of the output's size, so the peak stays near the output
        itself (benchmarks/README.md). ``check`` refuses non-finite logits
        before they are finished. ``output=False`` gives the trained decision
        logits (the post-hoc logit adjustment only): neither ``output_prior``
        nor the decision offsets, which are chosen on them.
        """
        if nets is None:
            nets = self.__dict__.get("members_") or [self.net_]
        out = np.empty((X.shape[0], self.n_classes_), dtype=np.float64)
        target = getattr(self, "output_prior", None) if output else None
        shifts = [
            self._posthoc_shift(getattr(net, "kept_prior", None), target)
            for net in nets
        ]
        # Offsets move the averaged decision (not each member's): they were
        # chosen on the members' held-out log-probabilities.
        offsets = self._decision_offsets() if output else None
        # The output's temperature scales the final logits: no decision moves.
        temperature = self._output_temperature() if output else 1.0
        modules = [net.module_ for net in nets]
        device = nets[0].device
        with eval_mode(*modules), torch.inference_mode():
            for start in range(0, X.shape[0], _PREDICT_BATCH):
                # torch.tensor copies: read-only or F-ordered inputs are fine.
                xb = torch.tensor(
                    X[start : start + _PREDICT_BATCH], dtype=torch.float32
                ).to(device)
                block = out[start : start + xb.shape[0]]
                for m, (net, shift) in enumerate(zip(nets, shifts, strict=True)):
                    z = net.criterion_.decision_logits(net.module_(xb)).double()
                    if shift is not None:
                        z = z + torch.as_tensor(shift, device=z.device)
                    if len(nets) == 1:
                        block[...] = z.cpu().numpy()
                        break
                    z = torch.log_softmax(z, dim=1).cpu().numpy()
                    if m == 0:
                        block[...] = z
                    else:
                        np.logaddexp(block, z, out=block)
                if len(nets) > 1:
                    block -= np.log(len(nets))
                if offsets is not None:
                    block += offsets
                if temperature != 1.0:
                    block /= temperature
                # Finite inputs far outside the training range can still
                # overflow the float32 forward pass; NaN probabilities must not
                # pass silently.
                if check and not np.isfinite(block).all():
                    raise ValueError(
                        "The network's outputs (logits) are not finite for some "
                        "rows of X: the inputs are probably far outside the range "
                        "seen in training. Scale X as the training data was scaled."
                    )
                if finish is not None:
                    finish(block)
        return out


def _softmax_(z):
    """Row-wise softmax of a float64 block, in place."""
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)


def _log_softmax_(z):
    """Row-wise log-softmax of a float64 block, in place."""
    z -= z.max(axis=1, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
