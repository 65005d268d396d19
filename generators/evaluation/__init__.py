"""Measuring what the models write and how well they learnt: bits per character
(bits_per_char.py), variety and control of samples (language_model.py), the sentence VAE
(vae.py), SeqGAN against maximum likelihood (seqgan.py), and how well a turn follows the story it
continues (continuations.py, story_fit.py). Training and the benchmarks use these; serving uses
only story_fit (a story's names and content words, for the rerankers and retrieval)."""
