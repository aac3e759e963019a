"""Screens and cards: the coach's Screen and Card values as Alexa directives and cards.

Only devices that declare `Alexa.Presentation.APL` get the document; every device gets
the card, which the Alexa app shows as the written form of what was just said.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from skill.conversation.values import Card, Screen

APL_DIR = Path(__file__).parent.parent / "content" / "apl"
EXERCISE_TOKEN = "exercise"


@cache
def apl_document(name: str = "exercise") -> dict[str, Any]:
    """The APL document, parsed once per process."""
    return json.loads((APL_DIR / f"{name}.json").read_text(encoding="utf-8"))


def supports_apl(request_envelope: Any) -> bool:
    device = request_envelope.context.system.device
    interfaces = getattr(device, "supported_interfaces", None)
    return getattr(interfaces, "alexa_presentation_apl", None) is not None


def data_source(screen: Screen) -> dict[str, Any]:
    """The document's `payload`: every field it binds, by the name it binds it with."""
    return {
        "exercise": {
            "name": screen.name,
            "position": screen.position,
            "progressPercent": screen.progress_percent,
            "stepText": screen.step_text,
            "equipment": screen.equipment,
            "countdownSeconds": screen.countdown_seconds,
            "nextLabel": screen.next_label,
            "repeatLabel": screen.repeat_label,
        }
    }


def render_directive(screen: Screen) -> Any:
    from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

    return RenderDocumentDirective(
        token=EXERCISE_TOKEN, document=apl_document(), datasources=data_source(screen)
    )


def simple_card(card: Card) -> Any:
    from ask_sdk_model.ui import SimpleCard

    return SimpleCard(title=card.title, content=card.text)
