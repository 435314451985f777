"""Training on TRL/PEFT/accelerate: adapters, the collator, and the SFT stage."""
