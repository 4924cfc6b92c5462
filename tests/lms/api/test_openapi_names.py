"""Schema names in the OpenAPI document are unique.

ninja names a component after its class; two different classes with the same
name in two apps' API modules silently share one component, and the document
then describes one of them wrongly (a client or fuzzer validating answers
against it fails).
"""

import inspect
import sys
from collections import defaultdict

from ninja import Schema

import lms.api  # noqa: F401 - imports every app's API module (the composition root)

APPS = {"lms", "courses", "exams", "certificates", "partners", "cms"}


def _api_modules():
    return [
        module
        for name, module in sorted(sys.modules.items())
        if name.split(".")[0] in APPS and "api" in name.rsplit(".", 1)[-1]
    ]


def test_same_named_schemas_are_the_same_schema():
    modules = _api_modules()
    assert len(modules) >= 8  # every app's API module was found
    by_name = defaultdict(dict)
    for module in modules:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, Schema) and value is not Schema:
                by_name[value.__name__][value] = value.model_json_schema()
    clashes = {
        name: sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in classes)
        for name, classes in by_name.items()
        if len({repr(sorted(schema.items())) for schema in classes.values()}) > 1
    }
    assert clashes == {}
