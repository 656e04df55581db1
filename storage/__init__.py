"""Where hecha keeps what it must protect: the deployment secret, databases, files, citizen numbers shown only masked."""
