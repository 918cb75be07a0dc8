Feature: Behind the conversation: summaries, human agents, expiry and replies stored late
  A long conversation is summarised so the bot keeps reading little; a customer who asks for a
  person gets one and the bot keeps quiet meanwhile; a conversation left idle is forgotten; and a
  reply the table refused reaches the customer at once and is stored later, exactly once.

  Background:
    Given customer "cust-1" is connected on connection "A"

  Scenario: A long conversation is summarised, and the bot reads the summary instead of the old turns
    When connection "A" asks 5 questions about "Frieren"
    Then the first 10 turns of the conversation are summarised
    When connection "A" sends the message "And what about Dungeon Meshi?" with id "m-11"
    Then the bot is reminded of the summary
    And the bot reads none of the turns the summary covers

  Scenario: A conversation is summarised once, however often or late the news of its turns arrives
    When connection "A" asks 5 questions about "Frieren"
    And the news that the conversation reached 10 turns arrives a second time
    And the news that it reached 4 turns arrives late
    Then the conversation has exactly 1 summary

  Scenario: A reply the table refused reaches the customer now and is stored later, exactly once
    Given the table refuses the next 1 reply writes
    When connection "A" sends the message "Do you ship to Canada?" with id "m-1"
    Then connection "A" still receives its reply to "m-1"
    And 1 reply waits in the retry queue, not yet stored
    When the turn writer is handed the waiting replies
    Then the turn writer stores them all
    And the session has 2 turns
    When the turn writer is handed the same replies again
    Then the turn writer stores them all
    And the session has 2 turns

  Scenario: A message in the retry queue that is no reply is set aside alone
    Given the table refuses the next 2 reply writes
    And connection "A" sends the message "Where is my order?" with id "m-1"
    And connection "A" sends the message "And my refund?" with id "m-2"
    When the turn writer is handed the first reply, a message that is no reply, and the second reply
    Then the turn writer sets aside only the message that is no reply
    And the session has 4 turns

  Scenario: A conversation left idle for a day is forgotten entirely
    Given connection "A" sends the message "Remember me?" with id "m-1"
    When the customer stays away longer than a session lives
    Then nothing of the conversation remains
    And connection "A" was closed by MangaAssist

  Scenario: A customer asks for a human, and the bot keeps quiet until the agent hands back
    When connection "A" asks for a human because "I want to talk about a refund"
    And agent "agent-7" picks up the session from connection "AGENT"
    And connection "A" sends the message "My parcel arrived damaged" with id "m-1"
    Then the bot was asked 0 times
    And connection "A" is told the session is with a human
    And connection "AGENT" received the customer's message "My parcel arrived damaged"
    And the conversation's history says a human agent took over
    When agent "agent-7" answers "I am sorry! A replacement is on its way."
    Then connection "A" receives a message from agent "agent-7"
    When agent "agent-7" hands the session back to the bot
    And connection "A" sends the message "Thanks! Any new Frieren volumes?" with id "m-2"
    Then the bot was asked 1 time

  Scenario Outline: A handoff happens entirely or not at all
    Given the table will refuse the <part> of the next handoff
    When agent "agent-7" takes over the session because "escalation"
    Then the agent is told the session could not be taken
    And the customer is still with the bot, with no handoff recorded and no new turn

    Examples:
      | part               |
      | session state      |
      | handoff record     |
      | announcement turn  |
