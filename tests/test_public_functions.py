"""Every public function rejects invalid parameters with an error naming them.

Modelled on scikit-learn's and imbalanced-learn's ``test_public_functions.py``:
each function in ``PARAM_VALIDATION_FUNCTION_LIST`` is decorated with
``validate_params``; each of its parameters is given a value of a type no
constraint allows, then values that ``generate_invalid_param_val`` makes
outside each constraint, and an ``InvalidParameterError`` naming the parameter
must come back. ``test_list_covers_every_public_function`` keeps the list
complete.
"""

import ast
import inspect
import pkgutil
import re
from importlib import import_module
from importlib.util import resolve_name
from numbers import Integral, Real

import pytest
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    generate_invalid_param_val,
    generate_valid_param,
    make_constraint,
)

from skscor.utils._validation import StrictInterval

MODULES = (
    "skscor.datasets",
    "skscor.hessian",
    "skscor.metrics",
    "skscor.plotting",
    "skscor.spectral",
)

PARAM_VALIDATION_FUNCTION_LIST = [
    "skscor.datasets.load_imbalanced_digits",
    "skscor.datasets.long_tail",
    "skscor.datasets.reduce_classes",
    "skscor.hessian.class_hessian_spectrum",
    "skscor.hessian.hessian_spectrum",
    "skscor.metrics.bottom_k_recall",
    "skscor.metrics.class_disparity",
    "skscor.metrics.get_scorer",
    "skscor.metrics.per_class_recall",
    "skscor.metrics.recall_gap",
    "skscor.metrics.recall_std",
    "skscor.metrics.worst_class_recall",
    "skscor.plotting.ClassRecallDisplay.from_estimator",
    "skscor.plotting.ClassRecallDisplay.from_predictions",
    "skscor.plotting.HessianDensityDisplay.from_estimator",
    "skscor.plotting.HessianDensityDisplay.from_spectrum",
    "skscor.plotting.SpectrumDisplay.from_estimator",
    "skscor.plotting.SpectrumDisplay.from_reports",
    "skscor.spectral.spectral_report",
]

# Public callables without parameters: nothing to validate.
WITHOUT_PARAMETERS = ["skscor.metrics.get_scorer_names"]


def _resolve(path):
    """The callable at ``module.name`` or ``module.Class.method``."""
    for split in range(path.count("."), 0, -1):
        module_name = ".".join(path.split(".")[:split])
        try:
            obj = import_module(module_name)
        except ImportError:
            continue
        for attr in path.split(".")[split:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def _public_callables():
    """Functions in each module's ``__all__`` and its classes' ``from_*`` methods."""
    found = set()
    for module_name in MODULES:
        module = import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                found.add(f"{module_name}.{name}")
            elif inspect.isclass(obj):
                found.update(
                    f"{module_name}.{name}.{attr}"
                    for attr, value in vars(obj).items()
                    if attr.startswith("from_") and isinstance(value, classmethod)
                )
    return found


def _valid_value(constraint):
    try:
        return generate_valid_param(constraint)
    except TypeError:
        # a class whose constructor needs arguments (SpectralReport): an
        # uninitialised instance passes the isinstance check, all that runs
        return constraint.type.__new__(constraint.type)


def _params(func):
    sig = inspect.signature(func)  # follows __wrapped__; bound methods drop cls
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    params = [p for p in sig.parameters.values() if p.kind not in kinds]
    required = [p.name for p in params if p.default is p.empty]
    return [p.name for p in params], required


def test_list_covers_every_public_function():
    listed = set(PARAM_VALIDATION_FUNCTION_LIST) | set(WITHOUT_PARAMETERS)
    public = _public_callables()
    assert public - listed == set(), "add these to PARAM_VALIDATION_FUNCTION_LIST"
    assert listed - public == set(), "these are not public (any more)"
    assert PARAM_VALIDATION_FUNCTION_LIST == sorted(PARAM_VALIDATION_FUNCTION_LIST)
    for path in WITHOUT_PARAMETERS:
        assert _params(_resolve(path))[0] == [], f"{path} takes parameters"


@pytest.mark.parametrize("path", PARAM_VALIDATION_FUNCTION_LIST)
def test_function_param_validation(path):
    func = _resolve(path)
    constraints = getattr(func, "_skl_parameter_constraints", None)
    assert constraints is not None, f"{path} is not decorated with validate_params"
    func_params, required = _params(func)
    # one constraint entry per parameter, and no stale ones
    assert set(constraints) == set(func_params), (
        f"{path}: constraints for {sorted(set(constraints) - set(func_params))} "
        f"but none for {sorted(set(func_params) - set(constraints))}"
    )

    valid_required = {
        name: 1
        if constraints[name] == "no_validation"
        else _valid_value(make_constraint(constraints[name][0]))
        for name in required
    }
    caller = re.escape(func.__qualname__)
    bad_type = type("BadType", (), {})()

    for name in func_params:
        if constraints[name] == "no_validation":
            continue
        param_constraints = [make_constraint(c) for c in constraints[name]]
        intervals = {c.type for c in param_constraints if isinstance(c, Interval)}
        assert not (Integral in intervals and Real in intervals), (
            f"{path}: {name} mixes an interval of ints with one of reals"
        )
        match = rf"The '{name}' parameter of {caller} must be .* Got .* instead\."

        # a type that no constraint accepts
        with pytest.raises(InvalidParameterError, match=match):
            func(**{**valid_required, name: bad_type})

        # a value of an accepted type outside each constraint's range or options
        for constraint in param_constraints:
            try:
                bad_value = generate_invalid_param_val(constraint)
            except NotImplementedError:
                continue
            with pytest.raises(InvalidParameterError, match=match):
                func(**{**valid_required, name: bad_value})

        # a number given as a bool is a bug in the caller (bool subclasses int)
        if any(isinstance(c, StrictInterval) for c in param_constraints):
            if not any(c.is_satisfied_by(True) for c in param_constraints):
                with pytest.raises(InvalidParameterError, match=match):
                    func(**{**valid_required, name: True})


def test_numbers_use_strict_intervals():
    """Numeric parameters reject bools: no plain Interval slips in."""
    for path in PARAM_VALIDATION_FUNCTION_LIST:
        for name, param_constraints in _resolve(
            path
        )._skl_parameter_constraints.items():
            if param_constraints == "no_validation":
                continue
            for constraint in param_constraints:
                if isinstance(constraint, Interval):
                    assert isinstance(constraint, StrictInterval), (path, name)


def _sources(module_name):
    """``(name, package, source)`` of a module and of a package's submodules."""
    module = import_module(module_name)
    modules = [module_name]
    if hasattr(module, "__path__"):  # a package: its submodules too
        prefix = module_name + "."
        modules += [
            info.name for info in pkgutil.walk_packages(module.__path__, prefix)
        ]
    for name in modules:
        module = import_module(name)
        package = name if hasattr(module, "__path__") else name.rpartition(".")[0]
        yield name, package, inspect.getsource(module)


def _imports(source, package):
    """``(absolute module, imported names)`` of each import in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            target = resolve_name("." * node.level + (node.module or ""), package)
            yield target, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_no_private_imports_between_public_modules():
    """Shared helpers live in skscor.utils, not behind another module's ``_``.

    The private submodules of a package (skscor.hessian, skscor.plotting)
    import each other; from another public module or package only its public
    names are imported, never a private submodule.
    """
    public = {name.rsplit(".", 1)[1] for name in MODULES}
    for module_name in MODULES:
        own = module_name.rsplit(".", 1)[1]
        for name, package, source in _sources(module_name):
            for target, names in _imports(source, package):
                parts = target.split(".")
                if parts[0] != "skscor" or len(parts) < 2:
                    continue
                if parts[1] not in public or parts[1] == own:
                    continue
                private = [p for p in parts[2:] + names if p.startswith("_")]
                assert not private, f"{name} imports {private} from {target}"
