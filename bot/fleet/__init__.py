"""Fleet reads for the chat handlers and jobs: inventory sites in, verdicts out."""
