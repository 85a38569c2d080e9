"""Reading back what the middleware's shared tracer wrote, in the shape the integration tests compare."""

from collections import Counter

from typeharvest.integrations.runtime import stop_shared_tracer
from typeharvest.store import TraceReader


def short(type_name):
    return type_name.replace("builtins.", "")


def read_traces(path, module):
    """{qualname: Counter({(arg types, return, yield): calls})} after stopping (and flushing) the shared
    tracer. Types are written without the ``builtins.`` prefix; "-" stands for "not observed"."""
    stop_shared_tracer()
    found = {}
    with TraceReader(path) as reader:
        for observation in reader.observations(module):
            signature = observation.signature
            key = (
                tuple(short(name) for name in signature.arg_types),
                short(signature.return_type) or "-",
                short(signature.yield_type) or "-",
            )
            found.setdefault(observation.function.qualname, Counter())[key] += observation.calls
    return found
