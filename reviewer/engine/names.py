"""Cheap qualified-name resolution through imports and simple assignments.

LibCST's scope analysis costs about a third of the time per file and answers
questions the rules never ask. Rules ask one thing: "which imported object is
this expression?" This resolver answers it from import statements, simple
assignments (``s = requests.Session()``), ``with ... as`` targets, annotated
parameters and ``self.x`` attributes set in the same class. Anything else is
unknown (None), and unknown is silence.

The runner feeds bindings in source order during its single walk; module-level
imports and assignments, and each class's ``self`` attributes, are pre-scanned
so that a function defined above them still sees them.

A call's result is named after its callee, as LibCST does:
``requests.Session().get`` is ``requests.Session.get``.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import libcst as cst

from reviewer.engine.walk import descendants

_BUILTINS = frozenset(dir(builtins))
_OPTIONAL_WRAPPERS = frozenset({"typing.Optional", "typing.Union", "typing_extensions.Optional"})


@dataclass
class _Scope:
    kind: str  # "module" | "function" | "class"
    bindings: dict[str, str | None] = field(default_factory=dict)
    self_name: str | None = None  # the first parameter of a method
    class_attrs: dict[str, str | None] | None = None  # for methods: the class's self.<attr> types


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of Names and Attributes, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _import_bindings(node: cst.Import | cst.ImportFrom) -> Iterator[tuple[str, str]]:
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                yield alias.asname.name.value, full
            else:
                top = full.split(".", 1)[0]
                yield top, top
        return
    if isinstance(node.names, cst.ImportStar):
        return
    module = dotted_name(node.module) if node.module is not None else ""
    if module is None:
        return
    if node.relative:
        module = "." * len(node.relative) + module
    for alias in node.names:
        name = dotted_name(alias.name)
        if name is None:
            continue
        bound = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            bound = alias.asname.name.value
        yield bound, f"{module}.{name}" if module and not module.endswith(".") else f"{module}{name}"


def assigned_names(target: cst.BaseExpression) -> Iterator[str]:
    """The names an assignment target binds: ``a``, ``a, (b, c)``, ``[*rest]``."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from assigned_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from assigned_names(target.value)


def bound_values(scope: cst.Module | cst.ClassDef | cst.FunctionDef, name: str) -> list[cst.BaseExpression | None]:
    """What ``name`` (or ``self.name``/``cls.name`` in a class) is bound to anywhere in
    ``scope``; None for a binding with no single value (``+=``, unpacking, a ``for`` or ``with`` target)."""

    def binds(target: cst.BaseExpression) -> bool:
        if isinstance(scope, cst.ClassDef) and isinstance(target, cst.Attribute):
            return target.attr.value == name and isinstance(target.value, cst.Name) \
                and target.value.value in ("self", "cls")
        return name in assigned_names(target)

    values: list[cst.BaseExpression | None] = []
    for node in descendants(scope):
        if isinstance(node, cst.Assign):
            values += [None if isinstance(t.target, (cst.Tuple, cst.List)) else node.value
                       for t in node.targets if binds(t.target)]
        elif isinstance(node, cst.AnnAssign) and binds(node.target):
            values.append(node.value)
        elif isinstance(node, (cst.AugAssign, cst.For, cst.CompFor, cst.AsName)):
            values += [None] if binds(node.name if isinstance(node, cst.AsName) else node.target) else []
    return values


def _simple_statements(body: Iterable[cst.CSTNode]) -> Iterator[cst.BaseSmallStatement]:
    """Small statements of a block, descending into if/try/with but not defs."""
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        elif isinstance(statement, (cst.If, cst.Try, cst.TryStar, cst.With, cst.For, cst.While)):
            yield from _simple_statements(_blocks_of(statement))


def _blocks_of(statement: cst.CSTNode) -> Iterator[cst.CSTNode]:
    body = getattr(statement, "body", None)
    if isinstance(body, cst.IndentedBlock):
        yield from body.body
    for attr in ("orelse", "finalbody"):
        branch = getattr(statement, attr, None)
        while branch is not None:
            inner = getattr(branch, "body", None)
            if isinstance(inner, cst.IndentedBlock):
                yield from inner.body
            branch = getattr(branch, "orelse", None) if isinstance(branch, cst.If) else None
    for handler in getattr(statement, "handlers", ()):
        if isinstance(handler.body, cst.IndentedBlock):
            yield from handler.body.body


class NameResolver:
    """Answers ``qualify(expr)`` for the node the runner is visiting now."""

    def __init__(self, module: cst.Module) -> None:
        self._scopes: list[_Scope] = [_Scope("module")]
        self.imported: set[str] = set()  # every qualified name imported anywhere in the module
        self.local_functions: dict[str, cst.FunctionDef] = {}
        self.string_constants: dict[str, str] = {}  # module-level NAME = "literal"
        # Module names a function fills through ``global``: a module-level
        # placeholder (``model = None``) does not make them unknown.
        self._global_types: dict[str, str] = {}
        # qualify() answers by node while no binding changes: several rules ask
        # about the same call. The node is kept with its answer, so its id
        # cannot be reused by another node while the entry lives.
        self._answers: dict[int, tuple[cst.BaseExpression, str | None]] = {}
        self._prescan_module(module)

    # -- what rules ask -------------------------------------------------------

    def qualify(self, node: cst.BaseExpression) -> str | None:
        if type(node) is cst.Name:
            return self.lookup(node.value)  # type: ignore[attr-defined]
        known = self._answers.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        answer = self._qualify(node)
        self._answers[id(node)] = (node, answer)
        return answer

    def _qualify(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Name):
            return self.lookup(node.value)
        if isinstance(node, cst.Attribute):
            receiver = node.value
            if isinstance(receiver, cst.Name) and self._is_self(receiver.value):
                return self._self_attribute(node.attr.value)
            base = self.qualify(receiver)
            return f"{base}.{node.attr.value}" if base else None
        if isinstance(node, cst.Call):
            return self.qualify(node.func)
        return None

    def lookup(self, name: str) -> str | None:
        innermost = len(self._scopes) - 1
        for index in range(innermost, -1, -1):
            scope = self._scopes[index]
            # Class bodies are not enclosing scopes for the functions inside them.
            if scope.kind == "class" and index != innermost:
                continue
            if name in scope.bindings:
                return scope.bindings[name]
        return f"builtins.{name}" if name in _BUILTINS else None

    def imports_any(self, prefixes: Iterable[str]) -> bool:
        return any(
            imported == prefix or imported.startswith(prefix + ".")
            for prefix in prefixes
            for imported in self.imported
        )

    # -- what the runner feeds ------------------------------------------------

    def record_import(self, node: cst.Import | cst.ImportFrom) -> None:
        self._answers.clear()
        for name, qualified in _import_bindings(node):
            self._scopes[-1].bindings[name] = qualified
            self.imported.add(qualified)
        if isinstance(node, cst.Import):
            # ``import torch.distributed`` binds ``torch`` but imports the submodule too.
            self.imported.update(filter(None, (dotted_name(alias.name) for alias in node.names)))

    def record_assign(self, targets: Iterable[cst.BaseExpression], value: cst.BaseExpression | None) -> None:
        qualified = self._value_type(value) if value is not None else None
        for target in targets:
            if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
                continue  # self.x is pre-scanned per class
            names = list(assigned_names(target))
            single = len(names) == 1 and isinstance(target, cst.Name)
            for name in names:
                self._bind(name, qualified if single else None)

    def record_annotation(self, target: cst.BaseExpression, annotation: cst.Annotation) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, self.annotation_type(annotation))

    def record_unknown(self, target: cst.BaseExpression) -> None:
        for name in assigned_names(target):
            self._bind(name, None)

    def enter_function(self, node: cst.FunctionDef | cst.Lambda) -> None:
        if isinstance(node, cst.FunctionDef):
            self._bind(node.name.value, None)
            if len(self._scopes) == 1:
                self.local_functions[node.name.value] = node
        parent = self._scopes[-1]
        scope = _Scope("function")
        params = node.params
        positional = [*params.posonly_params, *params.params]
        if parent.kind == "class" and positional and isinstance(node, cst.FunctionDef):
            if not _is_static(node):
                scope.self_name = positional[0].name.value
                scope.class_attrs = parent.class_attrs
        for param in [*positional, *params.kwonly_params]:
            annotated = None
            if param.annotation is not None and param.name.value != scope.self_name:
                annotated = self.annotation_type(param.annotation)
            scope.bindings[param.name.value] = annotated
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.bindings[star.name.value] = None
        self._scopes.append(scope)
        self._answers.clear()

    def enter_class(self, node: cst.ClassDef) -> None:
        self._bind(node.name.value, None)
        self._scopes.append(_Scope("class", class_attrs=self._prescan_class(node)))
        self._answers.clear()

    def leave_scope(self) -> None:
        self._answers.clear()
        self._scopes.pop()

    # -- helpers --------------------------------------------------------------

    def annotation_type(self, annotation: cst.Annotation) -> str | None:
        node = annotation.annotation
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            sides = [s for s in (node.left, node.right) if not _is_none(s)]
            node = sides[0] if len(sides) == 1 else node
        elif isinstance(node, cst.Subscript) and self.qualify(node.value) in _OPTIONAL_WRAPPERS:
            inner = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)]
            inner = [e for e in inner if not _is_none(e)]
            node = inner[0] if len(inner) == 1 else node
        if isinstance(node, cst.SimpleString):
            return None
        return self.qualify(node) if isinstance(node, (cst.Name, cst.Attribute)) else None

    def _value_type(self, value: cst.BaseExpression) -> str | None:
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Name) and value.value in ("None", "True", "False"):
            return None
        if isinstance(value, (cst.Call, cst.Name, cst.Attribute)):
            return self.qualify(value)
        return None

    def _bind(self, name: str, qualified: str | None) -> None:
        self._answers.clear()
        if qualified is None and len(self._scopes) == 1 and name in self._global_types:
            return
        self._scopes[-1].bindings[name] = qualified

    def _is_self(self, name: str) -> bool:
        scope = self._innermost_function()
        return scope is not None and scope.self_name == name and self.lookup(name) is None

    def _self_attribute(self, attr: str) -> str | None:
        scope = self._innermost_function()
        if scope is None or scope.class_attrs is None:
            return None
        return scope.class_attrs.get(attr)

    def _innermost_function(self) -> _Scope | None:
        for scope in reversed(self._scopes):
            if scope.kind == "function":
                return scope
            if scope.kind == "class":
                return None
        return None

    def _prescan_module(self, module: cst.Module) -> None:
        for statement in _simple_statements(module.body):
            if isinstance(statement, (cst.Import, cst.ImportFrom)):
                self.record_import(statement)
            elif isinstance(statement, cst.Assign):
                self.record_assign([t.target for t in statement.targets], statement.value)
                self._record_constant(statement)
        for statement in module.body:
            if isinstance(statement, cst.FunctionDef):
                self.local_functions[statement.name.value] = statement
                self._prescan_globals(statement)

    def _prescan_globals(self, function: cst.FunctionDef) -> None:
        """``global model; model = load()`` in a start-up hook types the module's ``model``."""
        statements = list(_simple_statements(function.body.body))
        declared = {n.name.value for s in statements if isinstance(s, cst.Global) for n in s.names}
        if not declared:
            return
        module_scope = self._scopes[0]
        for statement in statements:
            if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
                target = statement.targets[0].target
                if isinstance(target, cst.Name) and target.value in declared:
                    qualified = self._value_type(statement.value)
                    if qualified is not None:
                        self._global_types[target.value] = qualified
                        module_scope.bindings[target.value] = qualified
                        self._answers.clear()

    def _record_constant(self, statement: cst.Assign) -> None:
        if len(statement.targets) != 1 or not isinstance(statement.targets[0].target, cst.Name):
            return
        value = statement.value
        if isinstance(value, cst.SimpleString) and "b" not in value.prefix.lower():
            name = statement.targets[0].target.value
            if name in self.string_constants:
                self.string_constants[name] = ""  # assigned twice: not a constant
            else:
                self.string_constants[name] = value.evaluated_value  # type: ignore[assignment]

    def _prescan_class(self, node: cst.ClassDef) -> dict[str, str | None]:
        attrs: dict[str, str | None] = {}
        seen: dict[str, str | None] = {}

        def assign(name: str, qualified: str | None) -> None:
            # Two different assignments make the attribute's type unknown.
            if name in seen and seen[name] != qualified:
                qualified = None
            seen[name] = attrs[name] = qualified

        for statement in _simple_statements(node.body.body):
            if isinstance(statement, cst.Assign):
                for target in statement.targets:
                    if isinstance(target.target, cst.Name):
                        assign(target.target.value, self._value_type(statement.value))
            elif isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Name):
                assign(statement.target.value, self.annotation_type(statement.annotation))
        for method in node.body.body:
            if not isinstance(method, cst.FunctionDef) or _is_static(method):
                continue
            params = [*method.params.posonly_params, *method.params.params]
            if not params:
                continue
            self_name = params[0].name.value
            annotated = {
                p.name.value: self.annotation_type(p.annotation)
                for p in [*params[1:], *method.params.kwonly_params]
                if p.annotation is not None
            }
            for statement in _simple_statements(method.body.body):
                for target, value in _self_assignments(statement, self_name):
                    if isinstance(value, cst.Name) and value.value in annotated:
                        assign(target, annotated[value.value])
                    else:
                        assign(target, self._value_type(value) if value is not None else None)
        return attrs


def _self_assignments(
    statement: cst.BaseSmallStatement, self_name: str
) -> Iterator[tuple[str, cst.BaseExpression | None]]:
    if isinstance(statement, cst.Assign):
        targets = [t.target for t in statement.targets]
        value: cst.BaseExpression | None = statement.value
    elif isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
        targets = [statement.target]
        value = statement.value if isinstance(statement, cst.AnnAssign) else None
    else:
        return
    single = len(targets) == 1
    for target in targets:
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == self_name
        ):
            yield target.attr.value, value if single else None


def _is_static(node: cst.FunctionDef) -> bool:
    return any(
        isinstance(d.decorator, cst.Name) and d.decorator.value in ("staticmethod", "classmethod")
        for d in node.decorators
    )


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"
