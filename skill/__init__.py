"""Foot Routine: an Alexa skill that coaches a short foot routine, hands-free."""
