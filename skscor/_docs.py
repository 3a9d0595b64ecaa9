"""Docstring text shared by several objects: estimator fragments and fill_doc."""

import re

_BASE_TEMPLATE = """\
hidden_layer_sizes : array-like of int, default=(100,)
        Widths of the default MLP's hidden layers (ignored with ``module``).
    activation : {'relu', 'tanh', 'logistic', 'identity', 'gelu'}, default='relu'
        Hidden-layer nonlinearity of the default MLP.
    dropout : float, default=0.0
        Dropout probability after each hidden layer of the default MLP.
    optimizer : {'adam', 'adamw', 'sgd'}, default='adam'
        Optimizer (``torch.optim.Adam``, ``AdamW`` or ``SGD``).
    learning_rate_init : float, default=3e-3
        Initial learning rate (MLPClassifier's 1e-3 needed about three times
        the epochs for the same early-stopped quality; benchmarks/README.md).
    learning_rate : {'constant', 'step', 'cosine', 'adaptive'}, default='constant'
        Learning-rate schedule, on the schedule time of the training phases
        (see the user guide, "Training phases"): 'step' multiplies the rate
        by 0.1 when the final phase starts (``0.8 max_iter`` at the latest,
        or when the loss plateaus) and by 0.01 halfway through it; 'cosine'
        anneals it to zero over the phases; 'adaptive' divides it by 5 each
        time the loss plateaus (at most three times) before stopping.
    warmup_epochs : int, default=0
        Linear learning-rate warm-up over the first epochs (the LDAM-DRW and
        SAM recipes use 5); the stopping rule waits for it to end.
<weight_decay>
    momentum : float, default=0.9
        Momentum of 'sgd' (ignored by the other optimizers).
    batch_size : int or 'auto', default='auto'
        Rows per mini-batch; 'auto' is ``n_samples // 4`` within [64, 200]
        below 800 rows (about 4 steps per epoch, so that the epoch budget
        suffices on small data), ``min(200, n_samples)`` up to 6,400 rows (as
        MLPClassifier) and ``n_samples // 32`` above, at most 1,024 (about 32
        steps per epoch on large data).
    max_iter : int, default=200
        Maximum number of epochs of ``fit``.
    shuffle : bool, default=True
        Shuffle the training rows every epoch.
    tol : float, default=1e-4
        Improvement threshold of the stopping rule: training stops when the
        training loss (or, with ``early_stopping``, the class-balanced
        validation loss) has not improved by ``tol`` for more than
        ``n_iter_no_change`` epochs, as in ``MLPClassifier``.
    n_iter_no_change : int, default=10
        Patience of the stopping rule, in epochs.
    early_stopping : bool or 'refit', default=True
        ``True``: each member holds out ``validation_fraction`` of every class
        of five or more rows (stratified; a smaller class is trained on by
        every member and scored on its training rows, so that the stopping
        rule still waits for it), stops on the held-out score (``scoring``;
        by default the
        class-balanced cross-entropy, the mean over classes of each class's
        mean loss) and restores the weights of its best epoch. With the
        default five members the held-out slices are the folds of a 5-fold,
        so the ensemble trains on every row while each member is chosen on
        rows it did not see (see the user guide, "Model selection"). This is
        the default because the last epoch of a long class-balanced run
        memorises the few minority rows of noisy data (benchmarks/README.md).
        ``False``: every member trains on all rows until the training-loss
        rule or ``max_iter`` stops it, and keeps its last epoch. 'refit':
        each member's selection run chooses the number of epochs, then it
        trains again from the same initial weights on every row for that
        many epochs (about twice the cost). After an oversampler (SMOTE) in a
        pipeline the held-out rows include synthetic ones: see the user
        guide's pitfalls. A warm start or ``partial_fit`` does not refit.
    validation_fraction : float, default=0.2
        Share of each class held out by each member when ``early_stopping``
        is on. The members' held-out slices are disjoint while
        ``n_members * validation_fraction <= 1``; at ``1 / n_members`` they
        are the folds of a stratified k-fold (cross-fitting: every row is
        held out once and trains the other members).
    n_members : int, default=5
        Networks trained and averaged (their probabilities): each draws its
        own seed and, with ``early_stopping``, holds out its own validation
        slice and keeps its own best epoch, so the ensemble as a whole trains
        on every row while each member is chosen on rows it did not see.
        With early stopping and the default network, the members train in
        lockstep: one batched step computes every member's step on its own
        rows: the same networks as trained one after the other, up to float
        rounding and dropout's masks (a custom ``module`` trains them one
        after the other). Fit time still grows with the members;
        ``n_members=1`` is a single network.
        ``net_`` is the first member,
        ``members_`` all of them. A warm start or ``partial_fit`` continues
        each member on all rows.
    scoring : str, callable or None, default=None
        What chooses the kept epoch (and stops) with ``early_stopping``.
        ``None``: the class-balanced validation loss (the mean over classes
        of each class's mean loss): log-loss of the decision logits, or for
        FocalClassifier its focal loss (``gamma``), smooth where the balanced
        accuracy of a few minority rows jumps. Or
        any scikit-learn scorer name (``'balanced_accuracy'``,
        ``'roc_auc'``, ``'average_precision'``...) or scorer callable
        ``scorer(estimator, X, y)``, higher is better, judged on the held-out
        decisions of each epoch; ``validation_scores_`` then holds its values.
    class_weight : dict, 'balanced' or None, default='balanced'
        Per-class loss weights; 'balanced' uses
        ``n_samples / (n_classes * np.bincount(y))``, so that every class
        weighs the same in the loss (the default: measured to lift
        worst-class recall on most imbalanced tasks, benchmarks/README.md).
        ``None`` is the papers' unweighted loss. Weights are scaled to mean
        one over the training rows.
    logit_adjustment : {'loss', 'post-hoc'} or None, default=None
        Logit adjustment by the class prior ``pi`` the loss is trained
        under (class frequencies times class weights; uniform under
        ``class_weight='balanced'``, where both forms do nothing). 'loss'
        trains cross-entropy on ``z + tau log pi`` (balanced softmax at
        ``tau=1``) and predicts with plain ``z``; 'post-hoc' trains as usual
        and decides on ``z - tau log pi``: then ``predict_proba`` gives the
        probabilities under a uniform prior and ``predict`` stays its
        argmax.
    tau : float, default=1.0
        Strength of the logit adjustment; ``0`` disables it.
    output_prior : {'balanced', 'training'} or None, default=None
        The class prior ``predict_proba`` answers for, and hence the decision
        of ``predict`` (always its argmax). ``None``: the prior the network
        trained under, which ``class_weight='balanced'`` makes about uniform,
        so the minority's probabilities are inflated (on a 95/5 task the
        mean predicted probability of the rare class is well above 0.05) and
        ``predict`` favours balanced accuracy. 'balanced': exactly uniform
        (the trained prior divided out). 'training': the class frequencies of
        the training data (Bayes' rule, ``p(c|x) * f_c / pi_c``
        renormalized): calibrated to data drawn like the training rows, and
        ``predict`` then favours accuracy over the minority. A prediction-time
        choice: training and early stopping are unchanged.
    decision_offsets : {'auto'} or None, default='auto'
        Per-class offsets added to the default output's logits (so to the
        log-probabilities; ``predict`` stays the argmax of ``predict_proba``),
        stored in ``decision_offsets_``. 'auto': chosen after training on the
        held-out rows of the members' early-stopping splits (each row
        predicted by the members that did not train on it) to maximise
        balanced accuracy plus worst-class recall, when every class has at
        least 100 held-out rows; below that a recall is too noisy to tune on
        and the offsets stay zero. The class-weighted argmax left the rarest
        class's recall below the others' on most large imbalanced tasks; the
        offsets lifted worst-class recall at about equal balanced accuracy
        (benchmarks/README.md). Zero without held-out rows:
        ``early_stopping=False`` or 'refit', and after ``partial_fit`` (its
        networks have moved on from the rows they were chosen on). Not
        applied under ``output_prior``, which asks for probabilities under a
        stated prior. The held-out recalls count rows: ``sample_weight`` does
        not enter them, as it does not enter the early-stopping selection.
        ``None``: no offsets.
    output_temperature : {'auto'} or float, default='auto'
        Temperature ``T`` dividing the final logits of ``predict_proba``
        (``softmax(z / T)``): it makes the probabilities sharper (``T < 1``)
        or softer without moving any decision (``predict`` and the offsets
        are unchanged). A prediction-time choice, as ``output_prior`` (no
        refit). 'auto': the current output's temperature in
        ``output_temperatures_``, one per output (the default and each
        ``output_prior``), fitted after training on the held-out rows of the
        members' early-stopping splits (each row predicted by the members
        that did not train on it) to minimise the log-loss of that output,
        each class weighted to the prior the output answers for (uniform for
        the default output under ``class_weight='balanced'``, the training
        frequencies for 'training'); bounded to ``[0.25, 4]``. Label
        smoothing and the focal term train toward less confident
        probabilities than the data warrant, and averaging members softens
        them further; the fitted temperature undoes that
        (benchmarks/README.md). A float: that temperature for every output
        (``1.0``: the networks' probabilities as they are). The fitted
        temperatures are 1 without held-out rows (``early_stopping=False``
        or 'refit', after ``partial_fit``) or when a class has none (a class
        of one training row). The held-out rows count as rows:
        ``sample_weight`` does not enter the fit, as it does not enter the
        early-stopping selection or the offsets.
    module : callable or None, default=None
        A ``torch.nn.Module`` class (or factory) called as
        ``module(n_features, n_classes)`` that returns logits. It must be
        importable (not defined in ``__main__``) to pickle into joblib
        workers. ``None`` uses :class:`skscor.modules.MLP`.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Training device; 'auto' picks CUDA when available. A model trained on
        a GPU unpickles onto the CPU where no GPU is present.
    n_threads : int, 'auto' or None, default='auto'
        Torch intra-op threads during ``fit`` and prediction, restored
        afterwards. 'auto' uses one thread for networks no wider than 512
        units (a custom ``module`` by its widest ``torch.nn.Linear``, the
        largest ``out_features`` before the output layer) and torch's setting
        otherwise; ``None`` never changes torch's
        setting. Measured on 2 cores (benchmarks/README.md): beside a busy
        process one thread kept a small fit at 1.13x its time alone where
        torch's two threads took 7.7x; on an idle machine two threads were
        1.3x faster.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, shuffling, dropout, the validation
        split and method randomness, without touching global RNG state.
    verbose : int, default=0
        ``1`` prints one line per epoch (loss, validation score, learning
        rate, rho, DRW, time), phase switches and why training stopped.
    warm_start : bool, default=False
        Continue training from the current weights on the next ``fit``. The
        next call resolves the class weights and logit offsets from its own
        data and takes the current values of the parameters that do not shape
        the network (``learning_rate_init``, ``weight_decay``, ``momentum``,
        ``dropout``, the loss's own parameters, rho); the optimizer keeps its
        state unless ``optimizer`` changed. Changing what shapes the network
        (``hidden_layer_sizes``, ``activation``, ``module``, SAM's ``loss``,
        ``preprocessing``, ``categorical_features``) raises.
    preprocessing : {'robust', 'quantile'} or None, default='robust'
        How the estimator conditions its own input, fitted on the training
        rows of the first call and stored (``preprocessor_``; it travels with
        ``save_weights``). 'robust': numeric columns centred by the median,
        divided by IQR / 1.349 and clipped smoothly (``x / sqrt(1 + (x/3)^2)``,
        as RealMLP-TD), so raw features of any scale and heavy tails work;
        'quantile': mapped to a normal by their quantiles. Binary columns stay
        0/1; a numeric NaN is imputed by the median and gets a missing
        indicator; categorical columns are one-hot encoded (at most 9 levels)
        or embedded (learned embeddings of up to 8 dimensions in the default MLP),
        with rare levels pooled, a missing value its own level and a slot for
        levels unseen at fit. ``None``: the input goes to the network as it is
        (numeric only, no NaN), e.g. for a custom ``module`` that wants raw
        inputs.
    categorical_features : 'from_dtype', array-like or None, default='from_dtype'
        Which columns are categorical: 'from_dtype' takes pandas
        ``category``, string/object and bool columns; or a boolean mask,
        integer indices or column names, as in
        ``HistGradientBoostingClassifier``; ``None``: none.
    numeric_embedding : {'auto', 'periodic'} or None, default='auto'
        'periodic': the default MLP also embeds each float input column
        (conditioned numeric columns, missing indicators, one-hot columns)
        periodically, ``relu(W [sin(2 pi c x), cos(2 pi c x)])`` with 8
        learned frequencies per column (initialised from ``N(0, 1)``) and one
        linear map to 8 dimensions shared by the columns (PLR-lite, Gorishniy
        et al., NeurIPS 2022; :class:`skscor.modules.MLP`), beside the
        columns themselves (a 0/1 column's embedding takes two values: it is
        folded into the first layer, the same network at a lower cost; see
        ``binary_columns`` there). 'auto': the first member is trained both with
        and without them, from the same seed on the same held-out split,
        each keeping its best epoch; the embeddings are kept only when they
        lower the class-balanced held-out log-loss by more than one standard
        error of the paired difference (so a few rows of a rare class never
        decide), and every other member is built the same way
        (``numeric_embedding_``, ``numeric_embedding_scores_``); without
        held-out rows (``early_stopping=False`` or ``'refit'``,
        ``partial_fit``), with a custom ``module`` or above 256 continuous
        input columns (images: the candidate's first layer is nine times as
        wide; on 576 to 3,072 columns a fit that tried it took 5-8x as
        long, and kept none), none without trying. Measured on the
        natural tasks (benchmarks/README.md): large gains where thresholds on
        a feature matter (a churn task: balanced accuracy +0.06), losses on
        image-like columns, at about 1.6x the fit time. 'periodic' is not
        combinable with a custom ``module``."""


_WEIGHT_DECAY_AUTO = """    weight_decay : float or 'auto', default='auto'
        L2 penalty (decoupled for 'adamw'). 'auto' is 1e-2 where the rarest
        class has 5 to 49 training rows (counted over ``partial_fit`` calls),
        every other class 50 or more (not a long tail of small classes, where
        decay cost balanced accuracy), and the class weights weigh its rows
        above the largest class's (as 'balanced' does); 3e-2 there when the
        largest class has at least 150 times the rarest's rows, 1e-1 at that
        ratio when the problem is binary and the minority has at most 12
        rows; and 0 otherwise: with a few dozen heavily weighted minority
        rows the members otherwise fit them exactly, the more so the fewer
        they are, while from 50 rows on, and in unweighted training, decay
        cost quality (benchmarks/README.md, "Stop 32" and "Stop 33").
        ``weight_decay_`` holds the value used.
"""
_WEIGHT_DECAY_SCOR = """    weight_decay : float or 'auto', default='auto'
        L2 penalty (decoupled for 'adamw'). 'auto' is 3e-2 where the rarest
        class has 5 to 49 training rows (counted over ``partial_fit`` calls),
        every other class 50 or more, the largest class at least 150 times as
        many and the class weights weigh the rarest class's rows above the
        largest's (as 'balanced' does); 1e-1 there when the problem is binary
        and the minority has at most 12 rows; and 0 otherwise: at milder
        imbalance the covariance penalty keeps the members from fitting a
        handful of minority rows and decay cost SCoR, while at imbalance
        ratios in the hundreds it gained (benchmarks/README.md, "Stop 32" and
        "Stop 33"). Focal, SAM and MR2 also decay by 1e-2 below that ratio.
        ``weight_decay_`` holds the value used.
"""
#: The base parameters of Focal, SAM and MR2, and SCoR's (its 'auto' decays
#: at extreme ratios only).
BASE_PARAMS = _BASE_TEMPLATE.replace("<weight_decay>\n", _WEIGHT_DECAY_AUTO)
SCOR_BASE_PARAMS = _BASE_TEMPLATE.replace("<weight_decay>\n", _WEIGHT_DECAY_SCOR)

#: The Notes paragraph on the default ``label_smoothing=0.1`` of Focal, SAM
#: and MR2, with each estimator's own measured differences (keys: quality,
#: natural, cut, letter).
LABEL_SMOOTHING_NOTE = """\
**Label smoothing.** ``label_smoothing=0.1`` (RealMLP-TD's value; the
paper's loss has none) is chosen by measurement: beside the balanced class
weights it keeps the logits of a class of a few rows from being pushed far
down on every other row, which a network fitting those rows otherwise does.
Against no smoothing, balanced accuracy / worst-class recall, 3 seeds: on 26
small tasks {quality}, most on classes of one to four rows; on 13 natural
tasks of 3,400-20,000 rows {natural} (a tie); with the minority of ten of
them cut to 8 rows {cut}; on a 26-class long tail (KEEL ``letter``,
imbalance factor 100) {letter}. SCoR keeps ``0``: its covariance penalty
does that work, and smoothing cost it (benchmarks/README.md, "Stop 34")."""

ATTRIBUTES = """\
classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    n_classes_ : int
        Number of classes.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Feature names, when ``X`` had string column names.
    preprocessor_ : object or None
        The fitted input conditioning (``preprocessing``): its
        ``is_categorical_``, ``categories_``, ``encodings_`` and
        ``feature_names_out_`` say what became of each column; ``None`` with
        ``preprocessing=None``.
    net_ : skorch.NeuralNet
        The trained network wrapper; ``net_.module_`` is the torch module.
        With ``n_members > 1``, the first member (the reports, Hessian and
        ``loss_curve_`` describe it).
    members_ : list of skorch.NeuralNet
        Every member network (``[net_]`` for a single network).
    class_counts_ : ndarray of shape (n_classes,)
        Training samples per class (accumulated over ``partial_fit`` calls):
        the frequencies of ``class_weight='balanced'``, logit adjustment,
        LDAM/VS margins and DRW.
    weight_decay_ : float
        The L2 strength of the last call (``weight_decay``, or what 'auto'
        resolved to on ``class_counts_``).
    class_weight_ : ndarray of shape (n_classes,)
        Per-class loss weights resolved by the last call from
        ``class_weight`` (or Focal's ``alpha``) and the class counts, scaled
        so that the training rows' combined (sample times class) weights
        have mean one; all ones without weighting. With DRW, the weights of
        the final phase (none apply before it).
    class_prior_ : ndarray of shape (n_classes,)
        The class prior the kept network trained under: class frequencies
        times the class weights of its phase (the epoch early stopping kept
        may precede DRW's switch). ``logit_adjustment='post-hoc'`` subtracts
        ``tau * log(class_prior_)``; a class without training rows takes the
        largest prior of the others, so it is never favoured.
    decision_offsets_ : ndarray of shape (n_classes,)
        The offsets of ``decision_offsets`` added to the decision logits
        (zeros when none were chosen).
    output_temperatures_ : dict
        The temperature fitted for each output of ``predict_proba``, used
        under ``output_temperature='auto'``: ``{'default': T, 'balanced': T,
        'training': T}``, keyed by ``output_prior`` (``'default'`` for
        ``None``).
    numeric_embedding_ : {'periodic'} or None
        The embedding the networks were built with (``numeric_embedding``,
        or what ``'auto'`` chose).
    numeric_embedding_scores_ : dict
        Only after ``numeric_embedding='auto'`` chose on held-out rows: the
        class-balanced held-out log-loss of the first member's kept network
        without and with the embeddings, and the standard error of their
        paired difference, ``{'none': ..., 'periodic': ..., 'se': ...}``
        (``inf`` for a candidate that diverged).
    switch_epoch_ : int or None
        Epoch (0-based, counted over all calls) at which the final training
        phase started (DRW on, learning-rate decay, larger rho); ``None``
        when the run had no phases or never reached it.
    stop_reason_ : {'converged', 'max_iter', 'interrupted'}
        Why the last ``fit`` stopped.
    n_iter_ : int
        Epochs trained so far (across ``partial_fit`` and warm starts); the
        most of any member.
    loss_curve_ : list of float
        Mean training loss per epoch.
    best_loss_ : float or None
        Lowest training loss reached (``None`` if training was interrupted
        before the first epoch completed).
    validation_scores_ : list of float or None
        Balanced accuracy on the held-out split per completed epoch (early
        stopping only; ``None`` otherwise).
    best_validation_score_ : float or None
        Validation balanced accuracy of the restored epoch (the one with the
        lowest class-balanced validation loss; ``early_stopping`` only). With
        several members, the balanced accuracy of the out-of-fold predictions:
        each held-out row predicted by the members that did not train on it
        (a class under five training rows is never held out, so it is left
        out of this score and of ``disparity_report_``).
    spectral_report_ : skscor.spectral.SpectralReport
        Singular values, ranks and condition numbers of every weight matrix
        after the last ``fit`` or ``partial_fit`` call; computed on first
        access (a fit pays nothing for it) and cached until the next call.
    disparity_report_ : skscor.metrics.DisparityReport
        Per-class recall, worst-class recall, recall spread, balanced
        accuracy, macro-F1 and geometric mean of the fitted model, computed
        on first access; its ``on`` says which rows: the held-out split with
        ``early_stopping=True`` (the members' out-of-fold predictions for an
        ensemble), otherwise (a sample of at most 20,000 of)
        the training rows of the last call, which flatter the model. For an
        estimate of generalization use held-out data:
        ``skscor.metrics.class_disparity(y_test, clf.predict(X_test))``."""


# ---------------------------------------------------------------- fill_doc
# Text shared by several docstrings, written once. A docstring line holding only
# ``%(key)s`` is replaced by DOCS[key], indented like that line (MNE's
# ``fill_doc`` convention); the estimators' f-string docstrings above cannot
# hold these because the losses' docstrings are raw strings with LaTeX braces.
DOCS = {
    "ref_scor": """\
References
----------
.. [1] A. Erdem and F. B. Tek, "Stochastic Covariance Regularization for
   Imbalanced Datasets", ICANN 2025, LNCS, pp. 128-140.""",
    "ref_focal": """\
References
----------
.. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollar, "Focal Loss
   for Dense Object Detection", ICCV 2017.""",
    "ref_ldam": """\
References
----------
.. [1] K. Cao, C. Wei, A. Gaidon, N. Arechiga and T. Ma, "Learning
   Imbalanced Datasets with Label-Distribution-Aware Margin Loss",
   NeurIPS 2019.""",
    "ref_vs": """\
References
----------
.. [1] G. R. Kini, O. Paraskevas, S. Oymak and C. Thrampoulidis,
   "Label-Imbalanced and Group-Sensitive Classification under
   Overparameterization", NeurIPS 2021.""",
    "ref_sam_imbalance": """\
References
----------
.. [1] H. Rangwani, S. K. Aithal, M. Mishra and R. V. Babu, "Escaping
   Saddle Points for Effective Generalization on Class-Imbalanced Data",
   NeurIPS 2022.""",
    "ref_mr2": """\
References
----------
.. [1] MR^2, ICLR 2026 (margin and representation regularization for
   class-imbalanced learning from per-class feature statistics).""",
    "loss_input_target": """\
input : Tensor of shape (n_samples, n_classes)
    Raw logits.
target : Tensor of shape (n_samples,)
    Integer class indices.""",
    "predict_X": """\
Parameters
----------
X : array-like of shape (n_samples, n_features)
    Rows to predict, with the features seen in ``fit``.""",
    "loss_class_weight": """\
weight : sequence of float or Tensor of shape (n_classes,), optional
    Per-class weights (e.g. from :func:`drw_weights`), applied as a
    per-sample factor ``weight[target]`` before the reduction, exactly like
    ``sample_weight``. This is *not* torch's ``cross_entropy(weight=...)``,
    whose mean divides by the sum of the weights of the batch.
sample_weight : Tensor of shape (n_samples,), optional
    Per-sample weights; ``mean`` is ``(w * l).mean()``, not renormalized.
reduction : {'mean', 'sum', 'none'}, default='mean'
    Reduction over the samples.

Returns
-------
loss : Tensor
    A scalar, or shape ``(n_samples,)`` for ``reduction='none'``.""",
}

_PLACEHOLDER = re.compile(r"^(?P<indent>[ ]*)%\((?P<key>\w+)\)s$", re.MULTILINE)


def fill_doc(obj):
    """Fill the ``%(key)s`` lines of ``obj.__doc__`` from :data:`DOCS`.

    An unknown key raises ``KeyError`` at import, so a typo cannot ship.
    """

    def fill(match):
        indent = match["indent"]
        lines = DOCS[match["key"]].splitlines()
        return "\n".join(indent + line if line else "" for line in lines)

    obj.__doc__ = _PLACEHOLDER.sub(fill, obj.__doc__)
    return obj
