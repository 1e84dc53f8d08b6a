package retrieval

// isStopWord reports whether a lowercase word carries too little meaning to
// search for: function words, contractions as the tokenizer spells them
// ("don't" is "dont"), and the filler of questions ("please explain ...", "tips for ...").
// Dropping them keeps them out of the coverage floor, where a question's
// wording would otherwise count as content the book fails to cover.
func isStopWord(w string) bool {
	switch w {
	case "a", "about", "above", "after", "again", "against", "ago", "aint",
		"all", "almost", "along", "already", "also", "although", "always", "am",
		"among", "an", "and", "another", "any", "anybody", "anyone", "anything",
		"anyway", "anywhere", "are", "arent", "around", "as", "at", "be", "became",
		"because", "become", "becomes", "been", "before", "behind", "being",
		"below", "beside", "besides", "between", "beyond", "both", "but", "by",
		"can", "cannot", "cant", "could", "couldnt", "describe", "described",
		"did", "didnt", "do", "does", "doesnt", "doing", "done", "dont", "down",
		"during", "each", "either", "else", "elsewhere", "enough", "etc", "even",
		"ever", "every", "everybody", "everyone", "everything", "everywhere",
		"explain", "explained", "explaining", "few", "for", "from", "further",
		"furthermore", "get", "gets", "getting", "got", "gotten", "had", "hadnt",
		"has", "hasnt", "have", "havent", "having", "he", "hello", "hence", "her",
		"here", "hers", "herself", "hes", "hi", "him", "himself", "his", "how",
		"however", "i", "ie", "if", "im", "in", "indeed", "instead", "into", "is",
		"isnt", "it", "its", "itself", "ive", "just", "least", "less", "let",
		"lets", "like", "likely", "many", "may", "maybe", "me", "meanwhile",
		"might", "mine", "more", "moreover", "most", "mostly", "much", "must",
		"mustnt", "my", "myself", "namely", "neednt", "neither", "nevertheless",
		"no", "nobody", "none", "nor", "not", "nothing", "now", "nowhere", "of",
		"off", "often", "oh", "ok", "okay", "on", "once", "one", "ones", "only",
		"onto", "or", "other", "others", "otherwise", "ought", "our", "ours",
		"ourselves", "out", "over", "own", "per", "perhaps", "please", "quite",
		"rather", "really", "said", "same", "say", "says", "shall", "shant", "she",
		"shes", "should", "shouldnt", "since", "so", "some", "somebody", "someone",
		"something", "sometime", "sometimes", "somewhat", "somewhere", "such",
		"tell", "than", "thank", "thanks", "that", "thats", "the", "their",
		"theirs", "them", "themselves", "then", "thence", "there", "thereafter",
		"thereby", "therefore", "theres", "these", "they", "theyd", "theyll",
		"theyre", "theyve", "this", "those", "though", "through", "throughout",
		"thus", "tip", "tips", "to", "together", "told", "too", "toward",
		"towards", "under", "unless", "unlike", "until", "up", "upon", "us",
		"very", "via", "was", "wasnt", "we", "wed", "were", "werent", "weve",
		"what", "whatever", "whats", "when", "whenever", "where", "whereas",
		"wherever", "whether", "which", "while", "who", "whoever", "whom", "whose",
		"why", "will", "with", "within", "without", "wont", "would", "wouldnt",
		"yes", "yet", "you", "youd", "youll", "your", "youre", "yours", "yourself",
		"yourselves", "youve":
		return true
	}
	return false
}
