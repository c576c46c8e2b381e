"""The trainer loop: which member messages need review, and how they group.

``queue`` selects the messages the assistant could not serve well (declined,
unsure, rated down, clarified, handed over); ``clustering`` groups them by
meaning; ``cache`` keeps computed clusters in the database for every
process; ``erasure`` deletes a conversation with what was learnt from it and
records that it happened.
"""
