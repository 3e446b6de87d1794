"""icsuite_contracts"""
