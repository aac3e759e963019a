"""Local developer tools: the console, its words-to-intent matcher, voice output."""
