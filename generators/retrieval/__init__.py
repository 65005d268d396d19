"""Human sentences from the training corpus, recast to the story's people, as candidates.

A small language model trained on two CPU cores writes fluent-looking words that rarely follow
the story (blind readers scored its turns about 1 of 5 for coherence). The corpus is full of
human next sentences for situations much like the story's; retrieving them by what the story's
last sentences talk about, renaming their people to the story's, and letting them compete with
the model's own samples under the same `story` reranker gives turns a reader can follow.

- `index`: build, save and load the passage index (train split only, never validation text);
- `recast`: which words are names, their pronouns, and renaming a passage's people;
- `source`: the candidates for one request, moderated and scored like the sampler's.
"""
