"""The workspace: what people decided (decisions, retractions, proposed codes, comments, roles), kept for
good as events, beside a catalogue that is read-only reference data and can be replaced.

Modules, one job each: `records` (the records), `keys` (a decision's subject), `store` (the storage
interface; `sqlite` and `postgres` behind it), `schema` (the tables), `rules` (the decision in force,
conflicts), `roles` (who may do what, tokens), `workspace` (the Workspace: reads and writes),
`catalogues` (a catalogue's version, what a switch affects), `use` (the catalogue a command uses,
switching), `migrate` (today's catalogue copies moved in), `export` (the log to CSV/.xlsx).
"""
from .records import CatalogueRef, Event, NewDecision, Origin, Outcome, ProposalDraft, Status, Via
from .roles import LOCAL, Caller, Role
from .workspace import Forbidden, Refused, Workspace

__all__ = ["LOCAL", "Caller", "CatalogueRef", "Event", "Forbidden", "NewDecision", "Origin", "Outcome",
           "ProposalDraft", "Refused", "Role", "Status", "Via", "Workspace"]
