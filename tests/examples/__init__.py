"""One of each resource, for a test that needs one to exist (a comment needs a post; a generated
resource, what it references). Each module, named after its resource, has:

- ``new_<kind>(use_cases, owner, **fields)``: one made through its use case, where ``use_cases`` builds a
  use case from its type: the unit tests' ``Fakes``, or the app's container in integration tests;
- ``create_<kind>(client, keys, user, **fields)``: the response to making one over HTTP (asserted);
- for a resource ``Fakes`` does not bind itself, ``fake_<plural>(fakes)``: its in-memory ports.

``just new-resource`` writes one for each resource it generates, and uses them for its references.
"""
