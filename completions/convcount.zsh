
#compdef convcount

_convcount_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _CONVCOUNT_COMPLETE=complete_zsh convcount)
}

compdef _convcount_completion convcount

