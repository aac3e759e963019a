"""The baselines, built and measured in the same run as our skill.

* The ASK hello-world sample (`hello_world_handler`): a `CustomSkillBuilder` skill whose
  launch reads persistent attributes, and an intent reflector that answers any intent, so
  it can be sent the very same dialogue as ours. `sample_lambda_handler` is the Lambda form
  the ASK samples deploy: `ask_sdk_dynamodb`'s `DynamoDbAdapter`, whose default
  `dynamodb_resource=boto3.resource("dynamodb")` argument is built when the adapter module
  is imported (AWS_ENDPOINT_URL_DYNAMODB points it at the local server).
* The sample saving on every turn (`sample_lambda_handler(..., save_every_turn=True)`): the
  ASK samples' persistence habit, a response interceptor that loads the attributes (one
  read a turn, as a new request has a new attributes manager), notes the turn and saves.
  The cost section bills its Lambda time.
* Save-every-turn (`save_every_turn`): our own skill, but writing progress on every
  response, as the samples' "save in a response interceptor" habit does. It isolates what
  our write-only-on-change rule saves, on the same dialogue.

Only ask-sdk-core is imported at module level: the cold-start child imports this module for
the hello-world skill and must not pay for anything the sample would not load.
"""

from __future__ import annotations

from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.dispatch_components import (
    AbstractExceptionHandler,
    AbstractRequestHandler,
    AbstractResponseInterceptor,
)
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response

REPROMPT = "You can say hello, or help."


class LaunchRequestHandler(AbstractRequestHandler):
    """Greets, counting visits from the persistent attributes (the read the issue asks for)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        visits = handler_input.attributes_manager.persistent_attributes.get("visits", 0)
        speech = f"Welcome back, visit {visits}. {REPROMPT}" if visits else f"Welcome! {REPROMPT}"
        return handler_input.response_builder.speak(speech).ask(REPROMPT).response


class HelloWorldIntentHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("HelloWorldIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return handler_input.response_builder.speak("Hello World!").ask(REPROMPT).response


class HelpIntentHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.HelpIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return handler_input.response_builder.speak(REPROMPT).ask(REPROMPT).response


class CancelOrStopIntentHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.CancelIntent")(handler_input) or is_intent_name(
            "AMAZON.StopIntent"
        )(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return handler_input.response_builder.speak("Goodbye!").response


class SessionEndedRequestHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("SessionEndedRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return handler_input.response_builder.response


class IntentReflectorHandler(AbstractRequestHandler):
    """The sample's catch-all: says which intent fired (keeps the session open, like ours)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("IntentRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        name = handler_input.request_envelope.request.intent.name
        return handler_input.response_builder.speak(f"You just triggered {name}.").ask(
            REPROMPT
        ).response


class CatchAllExceptionHandler(AbstractExceptionHandler):
    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        speech = "Sorry, I had trouble doing what you asked. Please try again."
        return handler_input.response_builder.speak(speech).ask(speech).response


def hello_world_builder(adapter: AbstractPersistenceAdapter) -> CustomSkillBuilder:
    """The hello-world sample's builder, in the sample's handler order."""
    builder = CustomSkillBuilder(persistence_adapter=adapter)
    for handler in (
        LaunchRequestHandler(),
        HelloWorldIntentHandler(),
        HelpIntentHandler(),
        CancelOrStopIntentHandler(),
        SessionEndedRequestHandler(),
        IntentReflectorHandler(),  # last, so it does not override the handlers above
    ):
        builder.add_request_handler(handler)
    builder.add_exception_handler(CatchAllExceptionHandler())
    return builder


def hello_world_handler(adapter: AbstractPersistenceAdapter) -> Any:
    """`handler(event, context)` exactly as the sample exports it (`sb.lambda_handler()`)."""
    return hello_world_builder(adapter).lambda_handler()


class SavePersistentAttributes(AbstractResponseInterceptor):
    """The samples' "save in a response interceptor": a read and a write on every turn."""

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        manager = handler_input.attributes_manager
        request = handler_input.request_envelope.request
        manager.persistent_attributes["last_request"] = request.object_type
        manager.save_persistent_attributes()


def sample_lambda_handler(table_name: str, save_every_turn: bool = False) -> Any:
    """The sample's Lambda entry point on DynamoDB, imported the way the sample imports it."""
    from ask_sdk_dynamodb.adapter import DynamoDbAdapter  # builds boto3.resource at import

    builder = hello_world_builder(DynamoDbAdapter(table_name=table_name, create_table=False))
    if save_every_turn:
        builder.add_global_response_interceptor(SavePersistentAttributes())
    return builder.lambda_handler()


class ForgetSavedProgress(AbstractResponseInterceptor):
    """Runs just before our SaveProgress and makes it write whatever it holds."""

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        # Deferred: the hello-world child must not import our skill.
        from skill.storage.session import ProgressSession

        ProgressSession(handler_input).forget_saved()


def save_every_turn(skill: CustomSkill) -> CustomSkill:
    """Our skill, turned into the save-every-turn baseline in place (and returned).

    Wrapping the built skill rather than re-assembling it keeps the baseline identical to
    `skill.alexa.app.build_skill` in everything but the write rule, whatever handlers it gains.
    The run checks that the baseline really wrote on every turn.
    """
    skill.request_dispatcher.response_interceptors.insert(0, ForgetSavedProgress())
    return skill
