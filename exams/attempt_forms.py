"""What a save checks and never changes, read once per web process.

An attempt's form is fixed when it starts: who it belongs to, its deadline,
and per item the option order and the question's kind. The answer save (the
busiest request of the system: every click on an option) checks a choice
against them, so each process keeps the forms it has read
(`save_sql.read_form`, one query for all the items) and a save is then one
UPDATE, which itself re-checks that the attempt is still open and its
deadline not passed. What the cache holds can only go stale where an
instructor edits an exam's grace period or a question's kind while people
are sitting it; a form is read again after `TTL_SECONDS` to bound that.

Contract:
- `form_for(attempt_id, person_id)` -> AttemptForm | None: the attempt's
  form if it is this person's, else None; read from the database when this
  process does not hold it or holds it for longer than `TTL_SECONDS`.
- `forget(attempt_id=None)`: drop one form, or all (tests, deploys).
- At most `KEPT` forms per process, least recently used dropped first.
  Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from . import save_sql

TTL_SECONDS = 60
KEPT = 1000

_lock = threading.Lock()
_forms: OrderedDict[int, tuple[float, save_sql.AttemptForm]] = OrderedDict()


def form_for(*, attempt_id: int, person_id: int) -> save_sql.AttemptForm | None:
    now = time.monotonic()
    with _lock:
        held = _forms.get(attempt_id)
        if held is not None and now - held[0] < TTL_SECONDS:
            _forms.move_to_end(attempt_id)
            form = held[1]
            return form if form.person_id == person_id else None
    form = save_sql.read_form(attempt_id=attempt_id, person_id=person_id)
    if form is not None:
        with _lock:
            _forms[attempt_id] = (now, form)
            _forms.move_to_end(attempt_id)
            while len(_forms) > KEPT:
                _forms.popitem(last=False)
    return form


def forget(attempt_id: int | None = None) -> None:
    with _lock:
        if attempt_id is None:
            _forms.clear()
        else:
            _forms.pop(attempt_id, None)
