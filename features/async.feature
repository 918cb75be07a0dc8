Feature: Behind the conversation: summaries, human agents, expiry and replayed writes
  Work that happens off the request path: MangaAssist keeps a rolling summary so prompts stay
  small, hands a customer to a human agent when asked, forgets sessions that went idle, and makes
  sure a reply the table refused is stored later, exactly once.

  Background:
    Given the store is open for business
    And customer "cust-1" is connected on connection "A"

  Scenario: After ten turns a summary exists and the next prompt starts from it
    When connection "A" asks 5 questions about "Frieren"
    Then a summary covering 10 turns exists
    When connection "A" sends the message "And what about Dungeon Meshi?" with id "m-11"
    Then the model's last prompt carries the summary in its system text
    And the model's last prompt holds no turn the summary covers

  Scenario: A summary is never made twice, nor made to go backwards
    When connection "A" asks 5 questions about "Frieren"
    And the summarizer hears again that the session reached 10 turns
    And the summarizer hears late that the session reached 4 turns
    Then exactly 1 summary exists

  Scenario: A reply the table refused is stored later, exactly once
    Given the table refuses the next 1 reply writes
    When connection "A" sends the message "Do you ship to Canada?" with id "m-1"
    Then connection "A" still receives its reply to "m-1"
    And 1 reply waits in the retry queue
    When the turn writer receives the retry queue's messages
    Then the turn writer reports no failure
    And the session has 2 turns
    When the turn writer receives the same messages again
    Then the turn writer reports no failure
    And the session has 2 turns

  Scenario: A poison message in the retry queue is reported alone
    Given the table refuses the next 2 reply writes
    And connection "A" sends the message "Where is my order?" with id "m-1"
    And connection "A" sends the message "And my refund?" with id "m-2"
    When the turn writer receives a batch of the first reply, a message that is no pending write, and the second reply
    Then the turn writer reports only the unreadable message as failed
    And the session has 4 turns

  Scenario: An expired session leaves nothing behind
    Given connection "A" sends the message "Remember me?" with id "m-1"
    When the session stays idle past its expiry
    And the TTL service removes it
    Then nothing of the session remains
    And connection "A" was closed by the server

  Scenario: A customer asks for a human and the bot stays silent
    Given an agent console is connected on connection "AGENT"
    When connection "A" asks for a human because "I want to talk about a refund"
    And agent "agent-7" picks up the session from connection "AGENT"
    And connection "A" sends the message "My parcel arrived damaged" with id "m-1"
    Then the model was asked 0 times
    And connection "A" got a handoff frame with status "handoff"
    And connection "AGENT" received the customer's message "My parcel arrived damaged"
    And the session's history has a system turn announcing the handoff
    When agent "agent-7" answers "I am sorry! A replacement is on its way."
    Then connection "A" receives a message from agent "agent-7"
    When agent "agent-7" hands the session back to the bot
    And connection "A" sends the message "Thanks! Any new Frieren volumes?" with id "m-2"
    Then the model was asked 1 time

  Scenario Outline: A handoff fully happens or not at all
    Given the <write> write of the next handoff will fail
    When agent "agent-7" takes over the session because "escalation"
    Then the handoff was refused
    And the session is still active with the bot, with no handoff recorded and no new turn

    Examples:
      | write              |
      | session state      |
      | handoff record     |
      | announcement turn  |
