"""Serving-time generation: from a request to scored candidates.

The engine (orchestration.py) over prompts (prompts.py, plain_prompt.py), sampling (sampling.py)
and the steps every serving path shares (pipeline.py); the loaded models (registry.py,
served_models.py, model_specs.py); what steers a turn while it is sampled (name_bias.py,
mood_bias.py); the sentence VAE's twists, style leads and style reranker (latent.py, twist.py,
style_lead.py, style.py); the rerankers (story_rerank.py with continuation_scoring.py,
seqgan_rerank.py). The public contract stays at the package root: generators.schemas,
generators.errors and the clients in generators.client.
"""
