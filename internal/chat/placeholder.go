package chat

import "context"

// Placeholder is the answerer used until a real one is configured. It says
// plainly that it does not answer, so nobody mistakes it for the assistant,
// while everything around it (storage, scoping, the wire contract) is real.
type Placeholder struct{}

// Answer returns the placeholder text and no sources. Triage routes the way
// the real one will: a highlighted passage goes to the summarizer.
func (Placeholder) Answer(_ context.Context, q Question) (Reply, error) {
	agent := q.Agent
	if agent == AgentTriage {
		agent = AgentRAG
		if q.HighlightedText != "" {
			agent = AgentSummarizer
		}
	}
	return Reply{
		Text:  "Your question is saved in this conversation, but this Lectern server has no assistant connected yet, so there is no answer to show. (Placeholder reply.)",
		Agent: agent,
	}, nil
}
