from pytest_bdd import scenarios

scenarios("conversations.feature")
