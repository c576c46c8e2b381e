"""Min side: who a logged-in member is, and what the union knows about them.

- ``identity``: verifying the member portal's signed login token (JWT).
- ``records``: a member's record as the personal answers need it.
- ``directory``: the ``MemberDirectory`` interface and its two
  implementations, the built-in tables (``tables``) and an HTTP connector to
  an external member system (``http``).
- ``templates``: the placeholder language of personal answers.
- ``csv_import``: loading the built-in tables from CSV files.
- ``access``: the above put together from settings, for the service layer.

Anonymity is by construction: nothing here writes to a conversation, and a
member's id, name or personal answer never reaches the database's
conversation tables or the logs.
"""
