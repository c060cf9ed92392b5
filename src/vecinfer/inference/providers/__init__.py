"""External embedding providers, chosen by model prefix: openai/, cohere/, jinaai/, openrouter/."""
