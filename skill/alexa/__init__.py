"""The Alexa edge: ASK SDK handlers, the assembled skill, and the calls to Alexa's APIs."""
