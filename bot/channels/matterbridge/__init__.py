"""Bridged WhatsApp groups, through Matterbridge's API account: every person their own learner."""
