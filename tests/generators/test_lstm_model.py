"""The LSTM language model: shapes, state carrying, tied weights."""

from __future__ import annotations

import torch

from generators.models.lstm import LSTMConfig, LSTMLanguageModel


def make_model(**overrides) -> LSTMLanguageModel:
    torch.manual_seed(0)
    config = LSTMConfig(vocab_size=50, embed_dim=16, hidden_dim=24, num_layers=2, **overrides)
    return LSTMLanguageModel(config).eval()


def test_forward_shapes_and_loss():
    model = make_model()
    ids = torch.randint(0, 50, (3, 7))
    logits, loss = model(ids, ids)
    assert logits.shape == (3, 7, 50)
    assert loss is not None and loss.ndim == 0 and loss.item() > 0
    _, no_loss = model(ids)
    assert no_loss is None


def test_state_continues_exactly():
    """Reading a prompt in two pieces with the carried state equals reading it at once."""
    model = make_model()
    ids = torch.randint(0, 50, (2, 10))
    whole, _ = model.run(ids)
    first, state = model.run(ids[:, :6])
    second, _ = model.run(ids[:, 6:], state)
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole, atol=1e-5, rtol=1e-5)


def test_last_only_projects_the_last_position_alone():
    model = make_model()
    ids = torch.randint(0, 50, (2, 10))
    whole, state = model.run(ids)
    last, last_state = model.run(ids, last_only=True)
    assert last.shape == (2, 1, 50)
    torch.testing.assert_close(last, whole[:, -1:], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(last_state, state)


def test_output_projection_is_tied_to_embedding():
    model = make_model()
    names = [name for name, _ in model.named_parameters()]
    assert not any("decoder" in n or "lm_head" in n for n in names)
    with torch.no_grad():
        model.embedding.weight[3].mul_(0)
        logits, _ = model.run(torch.tensor([[1, 2]]))
    torch.testing.assert_close(logits[0, :, 3], model.output_bias[3].expand(2))


def test_projection_when_hidden_differs_from_embedding():
    model = make_model()
    assert isinstance(model.proj, torch.nn.Linear)
    same = LSTMLanguageModel(LSTMConfig(vocab_size=50, embed_dim=16, hidden_dim=16))
    assert isinstance(same.proj, torch.nn.Identity)


def test_select_state_keeps_rows():
    model = make_model()
    _, state = model.run(torch.randint(0, 50, (4, 3)))
    picked = LSTMLanguageModel.select_state(state, torch.tensor([0, 2]))
    torch.testing.assert_close(picked[0], state[0][:, [0, 2]])
    joined = LSTMLanguageModel.cat_states([picked, picked])
    assert joined[0].shape[1] == 4
