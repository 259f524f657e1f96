"""Commands users run: finetune-demo."""
