"""Coach: a chat coach for digital inclusion."""
