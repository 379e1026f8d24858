"""What a 404 for an unknown id says after "not found": how to list the ones that exist."""

RESP_HINT = " Use 'client.responses.list()' to list available Responses."
CONV_HINT = " Conversations are not listed; create one with 'client.conversations.create()'."
ITEM_HINT = (
    " Use 'client.conversations.items.list(conversation_id)' or "
    "'client.responses.input_items.list(response_id)' to list available Items."
)
MODEL_HINT = " Use 'client.models.list()' to list available Models."
