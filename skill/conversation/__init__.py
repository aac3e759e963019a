"""The conversation core: what the skill says and does, with no Alexa, Flask or AWS imports.

A reader finds each concern in one module:
- `values`: the plain values both sides exchange (Event in; Reply and Plan out).
- `phases`: the Phase a user is in, derived once from their progress.
- `machine`: the declared table {(Phase, EventKind): rule}, with a default per event.
- `rules` and `reminder_dialogue`: what happens (the rules), never the words.
- `phrasebook` and `steps`: the words, cards and screens for what the rules decided.
- `coach`: the entry point the edge calls (`coach_for(locale)`, `plan`, `handle`).
- `progress`: the user's record; `speech` and `timeline`: a reply's words and cues, with
  Alexa's limits, in forms any edge can render.
"""
