"""Taking a trained model out of clintune: GGUF for llama.cpp and Ollama, checked against the trained model."""
