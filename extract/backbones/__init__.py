"""Clip feature backbones behind one interface (see `base.Backbone`) and a name registry."""
